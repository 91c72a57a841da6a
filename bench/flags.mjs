// flags.mjs — the bench scripts' command line: `--flag value` pairs over
// defaults (a flag whose default is a number takes a number), and the
// loopback-only target every script keeps to.

/** The options: defaults, with each flag of argv set; names maps a flag to its key. */
export function parseFlags(argv, defaults, names) {
  const opts = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) throw new Error(`unknown or incomplete flag ${argv[i]}`);
    opts[key] = typeof opts[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  return opts;
}

/** The origin of url, which must be plain http to a loopback address. */
export function loopbackOrigin(url) {
  const u = new URL(url);
  if (u.protocol !== 'http:' || !(u.hostname === 'localhost' || u.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(u.hostname))) {
    throw new Error(`refusing ${url}: loopback http only`);
  }
  return u.origin;
}
