/** The README inside an evidence pack: what is in it and how to check it with standard tools. */
export function packReadme(summary: {
  period: { from: string; to: string };
  generatedAt: string;
  generatedBy: string;
  keyId: string;
}): string {
  return `Gatehouse evidence pack
=======================

Period:        ${summary.period.from} to ${summary.period.to}
Generated:     ${summary.generatedAt} by ${summary.generatedBy}
Signing key:   ${summary.keyId} (audit/public-key.pem)

Contents
  pack.json                      summary: each control's result and the chain proof's range
  controls/<test>/population.*   the full population the test ran over, as CSV and JSON
  controls/<test>/result.json    pass or fail, the exact exceptions, criteria, audit actions read
  matrix/matrix.yaml             the criteria x components matrix, gaps, stories, controls
  matrix/gaps.csv                the gaps, with the stories that address them
  audit/events.jsonl             every audit event of the period, up to a signed checkpoint
  audit/checkpoint.json          that checkpoint (sequence number, hash, time, key id, signature)
  audit/checkpoint.payload/.sig  the exact bytes the checkpoint signature covers, and the signature
  audit/public-key.pem           the Ed25519 public key of the audit log
  SHA256SUMS, SHA256SUMS.sig     SHA-256 of every other file, and its Ed25519 signature

Checking it
  1. Compare audit/public-key.pem with the key you hold from a trusted source (gatehouse audit
     public-key, or the security office). Everything below only proves the pack matches that key.
  2. sha256sum -c SHA256SUMS
  3. openssl pkeyutl -verify -pubin -inkey audit/public-key.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig
  4. openssl pkeyutl -verify -pubin -inkey audit/public-key.pem -rawin \\
       -in audit/checkpoint.payload -sigfile audit/checkpoint.sig
  5. gatehouse compliance verify-pack pack.zip   (re-hashes every event and follows the chain
     to the signed checkpoint; also does 2 and 3)
`;
}
