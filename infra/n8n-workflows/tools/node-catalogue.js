// Prints {"n8n-nodes-base.x": [versions...]} for every node n8n-nodes-base registers.
const path = require('path');
const root = process.argv[2];
const pkg = require(path.join(root, 'package.json'));
const out = {};
for (const rel of pkg.n8n.nodes) {
  let mod;
  try { mod = require(path.join(root, rel)); } catch (e) { process.stderr.write(`skip ${rel}: ${e.message}\n`); continue; }
  for (const Cls of Object.values(mod)) {
    if (typeof Cls !== 'function') continue;
    let inst;
    try { inst = new Cls(); } catch (e) { continue; }
    const desc = inst.description;
    if (!desc || !desc.name) continue;
    let versions = [];
    if (inst.nodeVersions) versions = Object.keys(inst.nodeVersions).map(Number);
    else versions = Array.isArray(desc.version) ? desc.version : [desc.version ?? 1];
    out['n8n-nodes-base.' + desc.name] = [...new Set(versions)].sort((a, b) => a - b);
  }
}
process.stdout.write(JSON.stringify(out));
