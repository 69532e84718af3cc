/**
 * Why an image reference is not one: schemas/common.ts checks references with Docker's
 * grammar as one regular expression, which can only say yes or no; this names the part
 * at fault, so a caller who typed `Python:3.12` or `busybox:1.36 ` learns what to fix.
 */
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN = /^(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::[0-9]{1,5})?$/;
const MAX_LENGTH = 255;

/** The first thing wrong with `ref`, as a phrase; a generic one when nothing specific is found. */
export function explainImageReference(ref: string): string {
  if (ref.length === 0) return 'it is empty';
  if (ref.length > MAX_LENGTH) return `it is ${ref.length} characters long, more than ${MAX_LENGTH}`;
  if (/[\s"'`;|&$<>()\\]/.test(ref)) return 'it contains spaces, quotes or shell characters';
  const [name = '', digest, ...more] = ref.split('@');
  if (more.length > 0) return 'it has more than one @';
  if (digest !== undefined && !DIGEST.test(digest)) return `the digest "${digest}" must be sha256: followed by 64 lower-case hex digits`;
  const lastSlash = name.lastIndexOf('/');
  const tagAt = name.indexOf(':', lastSlash + 1);
  const repository = tagAt >= 0 ? name.slice(0, tagAt) : name;
  const tag = tagAt >= 0 ? name.slice(tagAt + 1) : undefined;
  if (tag !== undefined && tag.length > 128) return `the tag is ${tag.length} characters long, more than 128`;
  if (tag !== undefined && !TAG.test(tag)) return `the tag "${tag}" may hold letters, digits, _, . and - only, and must not start with . or -`;
  const components = repository.split('/');
  const first = components[0]!;
  const hasDomain = components.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasDomain && !DOMAIN.test(first)) return `the registry "${first}" is not a host name with an optional port`;
  for (const component of hasDomain ? components.slice(1) : components) {
    if (component === '') return 'it has an empty path component (a leading, trailing or doubled /)';
    if (component !== component.toLowerCase()) return `the repository "${component}" must be lower-case`;
    if (!PATH_COMPONENT.test(component)) return `the repository "${component}" may hold lower-case letters and digits, separated by ., _, __ or -`;
  }
  return 'it does not follow the form [registry/]repository[:tag][@sha256:digest]';
}

/** `python` -> `python:latest`; references with a tag or digest are left as they are. */
export function withExplicitTag(ref: string): string {
  if (ref.includes('@')) return ref;
  const lastSlash = ref.lastIndexOf('/');
  return ref.slice(lastSlash + 1).includes(':') ? ref : `${ref}:latest`;
}

/** The registry host of a reference, as Docker decides it (`docker.io` when none is named). */
export function registryOf(ref: string): string {
  const first = ref.split('/')[0]!;
  const isHost = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return isHost ? first : 'docker.io';
}
