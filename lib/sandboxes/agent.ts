/**
 * The agent inside every sandbox: one static busybox (Debian's busybox-static), placed
 * read-only at /.slipway by the runtime before the container starts. Images may have no
 * shell, no tar and no sleep; with the agent, the gateway needs nothing from them:
 * - keep-alive: `busybox sleep` as the container's command (Init: true reaps zombies);
 * - files: `tar -x` from the exec's stdin, `tar -c` to its stdout, `head | base64`, `stat`, `realpath`;
 * - process control: every exec carries a marker in its environment, and a timed-out or
 *   cancelled exec is ended by killing, with SIGKILL, each marked process and its process
 *   group (the engine makes each exec a session leader, so its children share its group).
 *
 * Why in the container rather than through the engine's archive API: the workspace is a
 * tmpfs, and the engine's archive calls see the host's view, not the container's mounts
 * (files put there vanish). Every helper here runs as the sandbox's own user inside the
 * sandbox: whatever a race in these scripts could reach, an exec of the caller can reach
 * already; none of them runs as root or on the host.
 */
import { readFile } from 'node:fs/promises';
import { SlipwayError } from '../errors.js';
import type { FileEntry } from '../runtime/container-runtime.js';

export const AGENT_DIR = '/.slipway';
export const BUSYBOX = `${AGENT_DIR}/busybox`;
export const WORKSPACE = '/workspace';
/** The environment variable marking every process an exec started. */
export const EXEC_MARKER = 'SLIPWAY_EXEC_ID';

/** The keep-alive: the longest sleep busybox takes (about 68 years). */
export const KEEP_ALIVE = [BUSYBOX, 'sleep', '2147483647'];

/** Runs `script` with busybox's shell; every tool is called as `$B applet`, never from the image's PATH. */
export function agentScript(script: string, args: string[]): string[] {
  return [BUSYBOX, 'sh', '-c', `B=${BUSYBOX}\n${script}`, 'slipway-agent', ...args];
}

/** The exit codes the scripts below use for the caller's mistakes. */
export const AGENT_EXIT = { missing: 3, outside: 4, wrongType: 5, symlink: 6, tooLarge: 7, unpack: 8 } as const;

const INSIDE = `case "$p" in ${WORKSPACE}|${WORKSPACE}/*) ;; *) exit ${AGENT_EXIT.outside};; esac`;

/** $1 path, $2 bytes to read: the resolved file's size on one line, then its head in base64. */
export const READ_SCRIPT = `p=$($B realpath "$1" 2>/dev/null) || exit ${AGENT_EXIT.missing}
${INSIDE}
[ -f "$p" ] || exit ${AGENT_EXIT.wrongType}
$B stat -c %s "$p" || exit ${AGENT_EXIT.missing}
$B head -c "$2" "$p" | $B base64 -w 0`;

/** $1 directory, $2 most entries: the resolved directory, then `type|size|mtime|name` per entry (lstat: links are not followed). */
export const LIST_SCRIPT = `p=$($B realpath "$1" 2>/dev/null) || exit ${AGENT_EXIT.missing}
${INSIDE}
[ -d "$p" ] || exit ${AGENT_EXIT.wrongType}
cd "$p" || exit ${AGENT_EXIT.missing}
echo "$p"
n=0
for f in * .[!.]* ..?*; do
  [ -e "$f" ] || [ -L "$f" ] || continue
  n=$((n+1))
  if [ "$n" -gt "$2" ]; then echo '//truncated'; break; fi
  $B stat -c '%F|%s|%Y|%n' "$f"
done`;

/** Exits (naming "$p" on stderr, draining stdin) when a component of the relative path $p, from the cwd, is a link. */
const REFUSE_LINKS = `cur=; rest=$p
  while :; do
    part=\${rest%%/*}
    cur=\${cur:+$cur/}$part
    if [ -L "$cur" ]; then echo "$p" >&2; $B cat >/dev/null; exit ${AGENT_EXIT.symlink}; fi
    [ "$rest" = "$part" ] && break
    rest=\${rest#*/}
  done`;

/**
 * $@ the relative paths about to be written; stdin a tar of them. Refuses (naming the
 * path on stderr) when any component of a path is already a symlink, so tar never writes
 * through a link planted in the workspace; then extracts.
 */
export const WRITE_SCRIPT = `cd ${WORKSPACE} || exit ${AGENT_EXIT.missing}
for p in "$@"; do
  ${REFUSE_LINKS}
done
exec $B tar -x -f - -C ${WORKSPACE}`;

/** The line UNPACK_AND_RUN_SCRIPT writes to stderr when the files could not be written (with exit AGENT_EXIT.unpack). */
export const UNPACK_FAILED_LINE = 'slipway-agent: the files could not be written into the workspace';

/**
 * A payload's files and program in one exec, when the caller sends no stdin of its own:
 * stdin is the tar of the files, unpacked into the fresh, empty workspace (no link can be
 * there yet), then the program replaces this shell ("$@") with an empty stdin.
 */
export const UNPACK_AND_RUN_SCRIPT = `$B tar -x -f - -C ${WORKSPACE} || { echo '${UNPACK_FAILED_LINE}' >&2; exit ${AGENT_EXIT.unpack}; }
exec "$@" </dev/null`;

/**
 * $1 the target directory (absolute, in the workspace; created when missing). Stdin: the
 * paths to check (relative to /workspace, one a line: the target's own, then those
 * lib/sandboxes/archive-upload.ts lists), an empty line, then the checked tar. Refuses
 * like WRITE_SCRIPT when a component of any path is already a link; then extracts into
 * $1 (owners not restored: the sandbox user owns what it writes).
 */
export const UNPACK_SCRIPT = `cd ${WORKSPACE} || exit ${AGENT_EXIT.missing}
while IFS= read -r p && [ -n "$p" ]; do
  [ "$p" = . ] && continue
  ${REFUSE_LINKS}
done
$B mkdir -p "$1" 2>/dev/null; [ -d "$1" ] && [ ! -L "$1" ] || { $B cat >/dev/null; exit ${AGENT_EXIT.wrongType}; }
exec $B tar -x -o -f - -C "$1"`;

/**
 * $1 a directory, $2 \`size\` or \`tar\`, $3 the most KiB it may hold. Resolves $1 (it must stay
 * in the workspace), then prints its resolved path and size in KiB (\`size\`), or streams a
 * tar of its contents to stdout (\`tar\`). Links are archived as links, never followed.
 */
export const PACK_SCRIPT = `p=$($B realpath "$1" 2>/dev/null) || exit ${AGENT_EXIT.missing}
${INSIDE}
[ -e "$p" ] || exit ${AGENT_EXIT.missing}
[ -d "$p" ] || exit ${AGENT_EXIT.wrongType}
if [ "$2" = size ]; then
  k=$($B du -s -k "$p" | $B cut -f1)
  echo "$p"; echo "$k"
  [ "$k" -le "$3" ] || exit ${AGENT_EXIT.tooLarge}
  exit 0
fi
cd "$p" || exit ${AGENT_EXIT.missing}
exec $B tar -c -f - .`;

/** $1 the exec's marker: SIGKILL to each marked process's group, then to the process. */
export const KILL_SCRIPT = `for d in /proc/[0-9]*; do
  if $B tr '\\0' '\\n' < "$d/environ" 2>/dev/null | $B grep -qx "${EXEC_MARKER}=$1"; then
    pid=\${d#/proc/}
    $B kill -9 -"$pid" 2>/dev/null; $B kill -9 "$pid" 2>/dev/null
  fi
done
exit 0`;

/**
 * The agent's files, read once from the host (SLIPWAY_SANDBOX_AGENT_BINARY): a missing or
 * unreadable binary fails the first sandbox create clearly, naming the setting.
 */
export class AgentFiles {
  private loaded: Promise<FileEntry[]> | undefined;

  constructor(private readonly binaryPath: string) {}

  files(): Promise<FileEntry[]> {
    this.loaded ??= readFile(this.binaryPath).then(
      (content) => [{ path: 'busybox', content, mode: 0o755 }],
      (err: NodeJS.ErrnoException) => {
        this.loaded = undefined;
        throw new SlipwayError(
          'SLIPWAY_ERR_UNSUPPORTED',
          `sandboxes need a static busybox at ${this.binaryPath} (SLIPWAY_SANDBOX_AGENT_BINARY; Debian package busybox-static), which cannot be read: ${err.code ?? err.message}`,
        );
      },
    );
    return this.loaded;
  }
}
