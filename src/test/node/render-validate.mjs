// Renders kustomize directories without a kustomize binary and validates every rendered object against the
// Kubernetes schemas of the npm package kubernetes-models (ServiceMonitor and PrometheusRule: the prometheus-operator
// CRD schemas of @kubernetes-models/prometheus-operator).
//
//   node render-validate.mjs OUT_DIR KUSTOMIZE_DIR...
//
// Two checks per object:
//   1. the package's JSON-schema validator (types, formats, required fields, enums);
//   2. TypeScript's excess-property check against the package's typings, which the JSON-schema validator does not
//      do: a misspelt field (`livenessProb`, `replicass`) fails here, as it would in the API server's strict
//      field validation.
// Writes OUT_DIR/<name>.json (the rendered objects of each directory, name = the directory's last path segment)
// and OUT_DIR/files.json (every file a kustomization read). Exit status 1 on any error, each printed.
//
// The renderer implements the subset of kustomize these manifests use, and rejects everything else, so that
// nothing a real `kustomize build` would apply is silently ignored here:
//   resources (files, or directories holding a kustomization.yaml), namespace, images (name, newName, newTag,
//   digest), patches (path + target {kind, name}, JSON6902 operations add, remove, replace, test).
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const [outDir, ...dirs] = process.argv.slice(2);
if (!outDir || dirs.length === 0) {
  console.error('usage: node render-validate.mjs OUT_DIR KUSTOMIZE_DIR...');
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });

const errors = [];
const filesRead = new Set();

// ---------------------------------------------------------------- rendering

const KUSTOMIZATION_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches']);
const CLUSTER_SCOPED = new Set([
  'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume', 'StorageClass',
  'PriorityClass', 'RuntimeClass', 'IngressClass', 'APIService', 'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
]);

function readYamlDocs(file) {
  filesRead.add(path.resolve(file));
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'));
  const out = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

function kustomizationFile(dir) {
  for (const name of ['kustomization.yaml', 'kustomization.yml', 'Kustomization']) {
    const f = path.join(dir, name);
    if (fs.existsSync(f)) return f;
  }
  throw new Error(`${dir}: no kustomization.yaml`);
}

function render(dir) {
  const kfile = kustomizationFile(dir);
  const [k] = readYamlDocs(kfile);
  if (k.kind !== 'Kustomization') throw new Error(`${kfile}: kind must be Kustomization`);
  for (const key of Object.keys(k)) {
    if (!KUSTOMIZATION_FIELDS.has(key)) throw new Error(`${kfile}: field '${key}' is not supported by this renderer`);
  }
  let objects = [];
  for (const res of k.resources ?? []) {
    const p = path.join(dir, res);
    if (!fs.existsSync(p)) throw new Error(`${kfile}: resource ${res} does not exist`);
    if (fs.statSync(p).isDirectory()) objects.push(...render(p));
    else objects.push(...readYamlDocs(p).map((o) => ({ ...o, __source: path.relative(process.cwd(), p) })));
  }
  for (const patch of k.patches ?? []) {
    for (const key of Object.keys(patch)) {
      if (key !== 'path' && key !== 'target') throw new Error(`${kfile}: patch field '${key}' is not supported`);
    }
    if (!patch.path || !patch.target) throw new Error(`${kfile}: a patch needs path and target`);
    for (const key of Object.keys(patch.target)) {
      if (key !== 'kind' && key !== 'name') throw new Error(`${kfile}: patch target field '${key}' is not supported`);
    }
    const pfile = path.join(dir, patch.path);
    const [ops] = readYamlDocs(pfile);
    if (!Array.isArray(ops)) throw new Error(`${pfile}: only JSON6902 patches (a list of operations) are supported`);
    const targets = objects.filter((o) => (!patch.target.kind || o.kind === patch.target.kind)
      && (!patch.target.name || o.metadata?.name === patch.target.name));
    if (targets.length === 0) throw new Error(`${pfile}: target ${JSON.stringify(patch.target)} matches no object`);
    for (const t of targets) {
      for (const op of ops) applyOp(t, op, pfile);
    }
  }
  if (k.namespace) {
    for (const o of objects) {
      if (!CLUSTER_SCOPED.has(o.kind)) o.metadata = { ...o.metadata, namespace: k.namespace };
    }
  }
  for (const img of k.images ?? []) {
    for (const key of Object.keys(img)) {
      if (!['name', 'newName', 'newTag', 'digest'].includes(key)) throw new Error(`${kfile}: images field '${key}'`);
    }
    let used = false;
    for (const o of objects) {
      const spec = o.spec?.template?.spec;
      for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
        const name = c.image.replace(/@.*$/, '').replace(/:[^:/]*$/, '');
        if (name !== img.name) continue;
        used = true;
        const newName = img.newName ?? name;
        c.image = img.digest ? `${newName}@${img.digest}` : `${newName}:${img.newTag ?? 'latest'}`;
      }
    }
    if (!used) throw new Error(`${kfile}: image ${img.name} is used by no container`);
  }
  return objects;
}

function pointer(p, file) {
  if (typeof p !== 'string' || !p.startsWith('/')) throw new Error(`${file}: bad path ${p}`);
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function applyOp(obj, op, file) {
  const segs = pointer(op.path, file);
  const last = segs.pop();
  let parent = obj;
  for (const s of segs) {
    parent = Array.isArray(parent) ? parent[Number(s)] : parent?.[s];
    if (parent === undefined || parent === null) throw new Error(`${file}: ${op.op} ${op.path}: parent does not exist`);
  }
  const isArr = Array.isArray(parent);
  const exists = isArr ? (last === '-' ? false : Number(last) < parent.length) : Object.hasOwn(parent, last);
  switch (op.op) {
    case 'add':
      if (isArr) {
        if (last === '-') parent.push(op.value);
        else parent.splice(Number(last), 0, op.value);
      } else parent[last] = op.value;
      break;
    case 'replace':
      if (!exists) throw new Error(`${file}: replace ${op.path}: nothing there`);
      parent[last] = op.value;
      break;
    case 'remove':
      if (!exists) throw new Error(`${file}: remove ${op.path}: nothing there`);
      if (isArr) parent.splice(Number(last), 1);
      else delete parent[last];
      break;
    case 'test':
      if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) {
        throw new Error(`${file}: test ${op.path}: ${JSON.stringify(parent[last])} != ${JSON.stringify(op.value)}`);
      }
      break;
    default:
      throw new Error(`${file}: JSON6902 op '${op.op}' is not supported`);
  }
}

// ---------------------------------------------------------------- validation

function modelModule(apiVersion) {
  if (apiVersion === 'monitoring.coreos.com/v1') return '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
  if (!/^[a-z0-9.-]*\/?v\d+[a-z0-9]*$/.test(apiVersion)) return null;
  return `kubernetes-models/${apiVersion}`;
}

const rendered = {};
const typed = [];
for (const dir of dirs) {
  const name = path.basename(path.resolve(dir));
  let objects;
  try {
    objects = render(dir);
  } catch (e) {
    errors.push(`${dir}: ${e.message}`);
    continue;
  }
  const seen = new Set();
  for (const o of objects) {
    const where = `${name}: ${o.kind}/${o.metadata?.name} (${o.__source})`;
    delete o.__source;
    const id = `${o.apiVersion}/${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
    if (seen.has(id)) errors.push(`${where}: defined twice`);
    seen.add(id);
    const mod = modelModule(o.apiVersion ?? '');
    if (!mod) {
      errors.push(`${where}: no schema for apiVersion ${o.apiVersion}`);
      continue;
    }
    let Model;
    try {
      Model = (await import(mod))[o.kind];
    } catch (e) {
      errors.push(`${where}: no schema for ${o.apiVersion} (${e.message})`);
      continue;
    }
    if (typeof Model !== 'function') {
      errors.push(`${where}: no schema for kind ${o.kind} in ${o.apiVersion}`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (e) {
      errors.push(`${where}: ${e.message}`);
    }
    typed.push({ where, mod: `${mod}/${o.kind}`, iface: `I${o.kind}`, object: o });
  }
  rendered[name] = objects;
  fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(objects, null, 2));
}

// TypeScript excess-property check: one typed constant per object
if (typed.length) {
  const lines = [];
  typed.forEach((t, i) => lines.push(`import type { ${t.iface} as T${i} } from ${JSON.stringify(t.mod)};`));
  typed.forEach((t, i) => lines.push(`// ${t.where}\nexport const o${i}: T${i} = ${JSON.stringify(t.object, null, 2)};`));
  const tsFile = path.join(here, 'rendered-manifests.ts');
  fs.writeFileSync(tsFile, lines.join('\n') + '\n');
  const tsc = path.join(here, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022',
      '--module', 'nodenext', '--moduleResolution', 'nodenext', tsFile], { cwd: here, encoding: 'utf8' });
  } catch (e) {
    // map each error line back to the object it is in
    const src = fs.readFileSync(tsFile, 'utf8').split('\n');
    for (const line of `${e.stdout ?? ''}${e.stderr ?? ''}`.split('\n').filter((l) => l.trim())) {
      const m = line.match(/\.ts\((\d+),\d+\): (.*)$/);
      if (!m) {
        errors.push(`typescript: ${line}`);
        continue;
      }
      let owner = '?';
      for (let n = Number(m[1]) - 1; n >= 0; n--) {
        if (src[n].startsWith('// ')) {
          owner = src[n].slice(3);
          break;
        }
      }
      errors.push(`${owner}: ${m[2]}`);
    }
  }
}

fs.writeFileSync(path.join(outDir, 'files.json'), JSON.stringify([...filesRead].sort(), null, 2));
for (const [name, objects] of Object.entries(rendered)) {
  console.log(`${name}: ${objects.length} objects (${objects.map((o) => o.kind).join(', ')})`);
}
if (errors.length) {
  for (const e of errors) console.error(`INVALID ${e}`);
  process.exit(1);
}
console.log(`all ${typed.length} objects valid`);
