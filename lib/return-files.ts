/**
 * Files a payload run hands back (`return_files`): paths or simple globs (`*`, `?`,
 * `[...]`, expanded by the agent's shell, one directory level per `*`) relative to
 * /workspace, collected through the agent after the program ended, bounded in count,
 * per-file and total bytes (server settings). Over a bound the result is cut, never
 * refused: a file's content stops at the bound (`truncated` on it), matches past the
 * count or the byte budget are left out and `files_truncated` says so.
 *
 * Safety: a pattern with `..` or an absolute path outside /workspace is refused before
 * anything runs; each match is resolved in the container (`realpath`) and one that
 * leads outside (a link the program made to /etc/passwd) or is not a regular file is
 * not read, only named in `files_refused`. The script first kills what is left of the
 * program (its marked processes), so nothing swaps a file for a link while it reads.
 */
import { invalidInput } from './errors.js';
import { EXEC_MARKER, WORKSPACE } from './sandboxes/agent.js';
import { utf8, workspacePath } from './sandboxes/sandbox-files.js';
import type { ReturnedFiles } from '../schemas/run-result.js';

/** Server bounds (server/config.ts, SLIPWAY_RETURN_FILES_*). */
export interface ReturnFilesBounds {
  /** Files (and refusals) in one result. */
  maxCount: number;
  maxFileBytes: number;
  maxTotalBytes: number;
}

/** The patterns as relative paths under /workspace; `..`, NUL and absolute paths elsewhere are refused naming the field. */
export function returnPatterns(patterns: readonly string[]): string[] {
  return patterns.map((pattern, i) => {
    const field = `return_files[${i}]`;
    const absolute = workspacePath(pattern, field);
    if (absolute === WORKSPACE) throw invalidInput(field, `${field} must name files in ${WORKSPACE}, not the directory itself`);
    return absolute.slice(WORKSPACE.length + 1);
  });
}

/**
 * $1 the run's marker, $2 most entries, $3 bytes per file, $4 bytes in all, then the
 * patterns. One line per match: `F|path64|size|content64`, `R|path64|reason`, and `T`
 * when the count bound stopped it. Paths are base64 since a file name may hold a newline.
 */
export const COLLECT_SCRIPT = `for d in /proc/[0-9]*; do
  if $B tr '\\0' '\\n' < "$d/environ" 2>/dev/null | $B grep -qx "${EXEC_MARKER}=$1"; then $B kill -9 -"\${d#/proc/}" "\${d#/proc/}" 2>/dev/null; fi
done
cd ${WORKSPACE} || exit 3
max=$2; per=$3; left=$4; shift 4
n=0
b64() { printf %s "$1" | $B base64 -w 0; }
IFS=
for pat in "$@"; do
  matched=
  for f in $pat; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    matched=1
    n=$((n+1))
    if [ "$n" -gt "$max" ]; then echo T; exit 0; fi
    p=$($B realpath "$f" 2>/dev/null) || { echo "R|$(b64 "$f")|missing"; continue; }
    case "$p" in ${WORKSPACE}/*) ;; *) echo "R|$(b64 "$f")|outside"; continue;; esac
    [ -f "$p" ] || { echo "R|$(b64 "$f")|not_a_file"; continue; }
    size=$($B stat -c %s "$p")
    take=$per; [ "$take" -gt "$left" ] && take=$left
    [ "$size" -lt "$take" ] && take=$size
    left=$((left - take))
    echo "F|$(b64 "$f")|$size|$($B head -c "$take" "$p" | $B base64 -w 0)"
  done
  [ -n "$matched" ] || echo "R|$(b64 "$pat")|no_match"
done`;

const REASONS: Record<string, string> = {
  missing: 'a link to nothing',
  outside: `leads outside ${WORKSPACE} (through a symbolic link); not read`,
  not_a_file: 'not a regular file',
  no_match: 'nothing matched',
};

/** The most output the collect script can print within `bounds` (base64 of the budget, and each line's overhead). */
export function collectOutputBytes(bounds: ReturnFilesBounds): number {
  return Math.ceil((bounds.maxTotalBytes * 4) / 3) + (bounds.maxCount + 32) * 1024;
}

/** The script's lines as the result's fields; `cut` says the output itself reached its cap. */
export function parseCollected(stdout: string, cut: boolean): ReturnedFiles {
  const lines = stdout.split('\n');
  // A cut output's last line may be partial: it is dropped.
  if (cut) lines.pop();
  const out: ReturnedFiles = { files: [], files_truncated: cut, files_refused: [] };
  const seen = new Set<string>();
  for (const line of lines) {
    if (line === 'T') out.files_truncated = true;
    const [kind, path64, a, b] = line.split('|');
    if (path64 === undefined) continue;
    const path = Buffer.from(path64, 'base64').toString('utf8');
    if (seen.has(path)) continue;
    seen.add(path);
    if (kind === 'R') out.files_refused.push({ path, reason: REASONS[a ?? ''] ?? a ?? 'refused' });
    if (kind !== 'F') continue;
    const size = Number(a);
    const bytes = Buffer.from(b ?? '', 'base64');
    const text = utf8(bytes);
    out.files.push({ path, size, encoding: text === null ? 'base64' : 'utf8', content: text ?? bytes.toString('base64'), truncated: bytes.length < size });
  }
  // A file cut by the total budget (not its own bound) means more was there than returned.
  if (out.files.some((f) => f.truncated)) out.files_truncated = true;
  return out;
}
