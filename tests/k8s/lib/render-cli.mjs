// node tests/k8s/lib/render-cli.mjs DIR: print the rendered objects as YAML documents.
// Remote resources are read from ADDON_MANIFEST_DIR/<name>.yaml when set (offline copies),
// where <name> is the add-on directory's name (k8s/addons/<name>).
import path from 'node:path';
import YAML from 'yaml';
import { render } from './kustomize.mjs';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: render-cli.mjs DIR');
  process.exit(2);
}
try {
  const objs = render(dir, {
    remote: () => process.env.ADDON_MANIFEST_DIR
      && path.join(process.env.ADDON_MANIFEST_DIR, `${path.basename(path.resolve(dir))}.yaml`),
  });
  process.stdout.write(objs.map((o) => YAML.stringify(o)).join('---\n'));
} catch (e) {
  console.error(`error: ${e.message}`);
  process.exit(1);
}
