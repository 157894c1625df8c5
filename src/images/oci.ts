/**
 * Fetches a devcontainer Feature published as an OCI artifact (the Features
 * distribution spec): the manifest of `registry/repository:tag`, its layer of
 * mediaType application/vnd.devcontainers.layer.v1+tar, and the files of that
 * tarball. Anonymous pulls only, with the registries' bearer-token flow (a 401
 * names the token realm; ghcr.io's is /token?scope=repository:NAME:pull).
 *
 * Registries speak https; plain http is used only for a loopback host
 * (localhost, 127.0.0.0/8, ::1), like docker's default insecure registries,
 * so a registry on this machine (a test's stand-in) works without TLS.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { RuntimeError, UsageError } from '../errors.js';
import type { FeatureFile, FeatureRef } from '../config/features.js';

export const FEATURE_LAYER_MEDIA_TYPE = 'application/vnd.devcontainers.layer.v1+tar';
const MANIFEST_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'];

export interface OciLayer {
  digest: string;
  size: number;
}

/** The feature layer of a manifest; an error names the feature when there is none. */
export function featureLayer(manifestText: string, what: string): OciLayer {
  let manifest: unknown;
  try {
    manifest = JSON.parse(manifestText);
  } catch {
    throw new RuntimeError(`${what}: the registry's manifest is not JSON`);
  }
  const layers = (manifest as { layers?: unknown } | null)?.layers;
  if (!Array.isArray(layers)) throw new RuntimeError(`${what}: the manifest has no layers; is this a devcontainer feature?`);
  for (const layer of layers as { mediaType?: unknown; digest?: unknown; size?: unknown }[]) {
    if (layer?.mediaType === FEATURE_LAYER_MEDIA_TYPE && typeof layer.digest === 'string' && /^sha256:[a-f0-9]{64}$/.test(layer.digest)) {
      return { digest: layer.digest, size: typeof layer.size === 'number' ? layer.size : -1 };
    }
  }
  throw new RuntimeError(`${what}: the manifest has no layer of type ${FEATURE_LAYER_MEDIA_TYPE}; is this a devcontainer feature?`);
}

/** Whether http (not https) may be used: a loopback host only. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `Bearer realm="…",service="…",scope="…"` as a map. */
export function parseAuthenticate(header: string): Record<string, string> | undefined {
  const m = /^\s*Bearer\s+(.*)$/i.exec(header);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const part of m[1]!.matchAll(/([A-Za-z]+)="([^"]*)"/g)) out[part[1]!.toLowerCase()] = part[2]!;
  return out;
}

export interface FetchedFeature {
  files: FeatureFile[];
  /** The layer's digest: what the derived image's tag hashes for this feature. */
  digest: string;
}

type Fetch = typeof fetch;

/** Downloads a registry feature; `fetchImpl` is for tests. */
export async function fetchOciFeature(ref: FeatureRef, fetchImpl: Fetch = fetch, timeoutMs = 60_000): Promise<FetchedFeature> {
  if (ref.source.kind !== 'oci') throw new Error('fetchOciFeature: not a registry feature');
  const { registry, repository, reference } = ref.source;
  const base = `${isLoopbackRegistry(registry) ? 'http' : 'https'}://${registry}`;
  const what = `feature '${ref.id}' from ${registry}`;
  let token: string | undefined;

  const get = async (path: string, accept: string[]): Promise<Response> => {
    const url = `${base}${path}`;
    const send = (): Promise<Response> =>
      fetchImpl(url, {
        headers: { accept: accept.join(', '), 'user-agent': 'spoon', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        signal: AbortSignal.timeout(timeoutMs),
      });
    let res = await request(send, what);
    if (res.status === 401 && !token) {
      token = await fetchToken(res.headers.get('www-authenticate'), repository, base, fetchImpl, what, timeoutMs);
      res = await request(send, what);
    }
    if (res.status === 401 || res.status === 403) throw new RuntimeError(`${what}: the registry refused access (HTTP ${res.status})`, { hint: 'spoon pulls features anonymously: is the feature public, and the name right?' });
    if (res.status === 404) throw new RuntimeError(`${what}: not found (HTTP 404 for ${path})`, { hint: 'check the feature id and its tag' });
    if (!res.ok) throw new RuntimeError(`${what}: the registry answered HTTP ${res.status} for ${path}`);
    return res;
  };

  const manifest = await (await get(`/v2/${repository}/manifests/${reference}`, MANIFEST_TYPES)).text();
  const layer = featureLayer(manifest, what);
  const blob = Buffer.from(await (await get(`/v2/${repository}/blobs/${layer.digest}`, ['application/octet-stream', '*/*'])).arrayBuffer());
  const actual = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  if (actual !== layer.digest) throw new RuntimeError(`${what}: the layer's content does not match its digest (${actual}, expected ${layer.digest})`);
  return { files: await untar(blob, what), digest: layer.digest };
}

async function request(send: () => Promise<Response>, what: string): Promise<Response> {
  try {
    return await send();
  } catch (err) {
    throw new RuntimeError(`cannot fetch ${what}: ${networkCause(err)}`, { hint: 'check the network and the registry host; spoon never skips a feature it cannot fetch', cause: err });
  }
}

/** fetch's "fetch failed" hides the reason in its cause (ECONNREFUSED, ENOTFOUND, a timeout). */
function networkCause(err: unknown): string {
  const cause = (err as { cause?: unknown } | undefined)?.cause as { code?: string; message?: string } | undefined;
  if (err instanceof Error && err.name === 'TimeoutError') return 'no answer in time';
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return err instanceof Error ? err.message : String(err);
}

async function fetchToken(header: string | null, repository: string, base: string, fetchImpl: Fetch, what: string, timeoutMs: number): Promise<string> {
  const params = header ? parseAuthenticate(header) : undefined;
  // ghcr.io's anonymous flow, when the 401 names no realm.
  const realm = params?.realm ?? `${base}/token`;
  const url = new URL(realm);
  if (params?.service) url.searchParams.set('service', params.service);
  url.searchParams.set('scope', params?.scope ?? `repository:${repository}:pull`);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackRegistry(url.host))) {
    throw new RuntimeError(`${what}: the registry's token service ${url.origin} is not https`);
  }
  const res = await request(() => fetchImpl(url, { headers: { 'user-agent': 'spoon' }, signal: AbortSignal.timeout(timeoutMs) }), `${what} (token from ${url.host})`);
  if (!res.ok) throw new RuntimeError(`${what}: no anonymous token from ${url.host} (HTTP ${res.status})`, { hint: 'spoon pulls features anonymously: is the feature public?' });
  let body: { token?: unknown; access_token?: unknown };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new RuntimeError(`${what}: the token answer of ${url.host} is not JSON`);
  }
  const token = body.token ?? body.access_token;
  if (typeof token !== 'string' || token === '') throw new RuntimeError(`${what}: the token answer of ${url.host} holds no token`);
  return token;
}

/** The regular files of a (possibly gzipped) tarball, `./` prefixes dropped; links and devices are not a feature's business. */
export async function untar(data: Buffer, what: string): Promise<FeatureFile[]> {
  let tar = data;
  if (data[0] === 0x1f && data[1] === 0x8b) {
    try {
      tar = gunzipSync(data);
    } catch (err) {
      throw new UsageError(`${what}: the feature's tarball is damaged: ${(err as Error).message}`);
    }
  }
  const files: FeatureFile[] = [];
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        const path = header.name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
        if (header.type === 'file' && path !== '' && !path.split('/').includes('..')) files.push({ path, content: Buffer.concat(chunks), mode: (header.mode ?? 0o644) & 0o7777 });
        next();
      });
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', (err: Error) => reject(new UsageError(`${what}: the feature's tarball cannot be read: ${err.message}`)));
  });
  ex.end(tar);
  await done;
  return files;
}
