import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';

/**
 * A real OpenID Connect provider (oidc-provider) on loopback whose login and consent happen without a
 * form: the account signed in is `idp.login` (set it before each sign-in), with its groups and amr.
 */
export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Who the next sign-in at the provider is. */
  login: string;
  close(): Promise<void>;
}

export interface IdpAccount {
  groups: string[];
  /** Authentication methods the provider reports (`otp` … counts as a second factor). */
  amr: string[];
  name?: string;
}

export async function startTestIdp(options: {
  port: number;
  redirectUri: string;
  accounts: Record<string, IdpAccount>;
}): Promise<TestIdp> {
  const issuer = `http://127.0.0.1:${options.port}`;
  const clientId = 'gatehouse';
  const clientSecret = 'gatehouse-test-client-secret';
  const state = { login: Object.keys(options.accounts)[0] ?? '' };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [options.redirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code'],
      },
    ],
    scopes: ['openid', 'profile', 'groups'],
    claims: {
      openid: ['sub', 'amr', 'acr', 'auth_time'],
      profile: ['preferred_username', 'name'],
      groups: ['groups'],
    },
    conformIdTokenClaims: false,
    cookies: { keys: ['oidc-test-cookie-key'] },
    features: { devInteractions: { enabled: false } },
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
    },
    findAccount: (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: () => ({
        sub,
        preferred_username: sub,
        name: options.accounts[sub]?.name ?? sub,
        groups: options.accounts[sub]?.groups ?? [],
      }),
    }),
  });
  const handle = provider.callback();
  const server: Server = createServer((req, res) => {
    if (!req.url?.startsWith('/interaction/')) return handle(req, res);
    void (async () => {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') {
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: state.login, amr: options.accounts[state.login]?.amr ?? [] } },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      const accountId = details.session!.accountId;
      const grant =
        (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
        new provider.Grant({ accountId, clientId });
      const missingScope = details.prompt.details.missingOIDCScope as string[] | undefined;
      const missingClaims = details.prompt.details.missingOIDCClaims as string[] | undefined;
      if (missingScope) grant.addOIDCScope(missingScope.join(' '));
      if (missingClaims) grant.addOIDCClaims(missingClaims);
      await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } });
    })().catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return {
    issuer,
    clientId,
    clientSecret,
    get login() {
      return state.login;
    },
    set login(value: string) {
      state.login = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
