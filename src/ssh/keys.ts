/**
 * ed25519 keys in OpenSSH's formats, made with node:crypto (≈ 2 ms, no package).
 * The private key format is PROTOCOL.key's "openssh-key-v1", unencrypted.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';

export interface KeyPair {
  /** The private key file's text (-----BEGIN OPENSSH PRIVATE KEY-----). */
  privateKey: string;
  /** One line: `ssh-ed25519 BASE64 comment`. */
  publicKey: string;
}

export function generateEd25519(comment: string): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
  const publicBlob = concat(sshString('ssh-ed25519'), sshString(pub));

  const check = randomBytes(4);
  let secret = concat(check, check, sshString('ssh-ed25519'), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(comment));
  // Pad to the cipher block size (8 for "none") with 1, 2, 3, ...
  const pad: number[] = [];
  for (let i = 1; (secret.length + pad.length) % 8 !== 0; i++) pad.push(i);
  secret = Buffer.concat([secret, Buffer.from(pad)]);

  const body = concat(
    Buffer.from('openssh-key-v1\0', 'binary'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(publicBlob),
    sshString(secret),
  );
  const b64 = body.toString('base64').replace(/(.{70})/g, '$1\n').replace(/\n$/, '');
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${publicBlob.toString('base64')} ${comment}`,
  };
}

/** Checks that a line looks like an OpenSSH public key and returns its `type base64` part. */
export function parsePublicKey(line: string): { type: string; blob: string; comment: string } | undefined {
  const m = /^\s*(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)\s+([A-Za-z0-9+/]+={0,2})(?:\s+(.*))?$/.exec(line);
  if (!m || !m[1] || !m[2]) return undefined;
  const decoded = Buffer.from(m[2], 'base64');
  const typeLen = decoded.length >= 4 ? decoded.readUInt32BE(0) : -1;
  if (typeLen <= 0 || decoded.subarray(4, 4 + typeLen).toString() !== m[1]) return undefined;
  return { type: m[1], blob: m[2], comment: (m[3] ?? '').trim() };
}

function sshString(value: string | Buffer): Buffer {
  const buf = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([uint32(buf.length), buf]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function concat(...parts: Buffer[]): Buffer {
  return Buffer.concat(parts);
}
