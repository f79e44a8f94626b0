/** Job kinds of notifications, and the SecretBox context of a channel's secret. */
export const notifyJobKinds = {
  follow: 'notify.follow',
  ticketComment: 'tickets.comment',
  deliver: 'notify.deliver',
  expiryCheck: 'notify.expiry-check',
} as const;

export const secretContext = (id: string) => `notify-channel:${id}`;
