/**
 * Language presets for payload runs: which image, which file name the payload gets,
 * and the argv that runs it. Defaults are the official images; the server's
 * configuration can replace any field of any preset (tests point them at local images).
 */
export interface LanguagePreset {
  image: string;
  file: string;
  command: string[];
}

export const DEFAULT_LANGUAGE_PRESETS: Record<string, LanguagePreset> = {
  python: { image: 'python:3.12-slim', file: 'main.py', command: ['python3', '-B', 'main.py'] },
  node: { image: 'node:20-slim', file: 'main.js', command: ['node', 'main.js'] },
  ruby: { image: 'ruby:3.3-slim', file: 'main.rb', command: ['ruby', 'main.rb'] },
  bash: { image: 'bash:5.2', file: 'main.sh', command: ['bash', 'main.sh'] },
  sh: { image: 'busybox:1.36', file: 'main.sh', command: ['sh', 'main.sh'] },
};

export function mergePresets(overrides: Record<string, Partial<LanguagePreset>>): Record<string, LanguagePreset> {
  const merged: Record<string, LanguagePreset> = { ...DEFAULT_LANGUAGE_PRESETS };
  for (const [language, override] of Object.entries(overrides)) {
    const base = merged[language];
    if (!base) throw new Error(`unknown language preset "${language}"`);
    merged[language] = { ...base, ...override };
  }
  return merged;
}
