// Validates rendered Kubernetes objects (the output of `kubectl kustomize`, one multi-document YAML file per
// rendering) against the Kubernetes schemas of the npm package kubernetes-models (ServiceMonitor and PrometheusRule:
// the prometheus-operator CRD schemas of @kubernetes-models/prometheus-operator).
//
//   node validate.mjs RENDERED.yaml...
//
// Two checks per object:
//   1. the package's JSON-schema validator (types, formats, required fields, enums);
//   2. TypeScript's excess-property check against the package's typings, which the JSON-schema validator does not
//      do: a misspelt field (`livenessProb`, `replicass`) fails here, as it would in the API server's strict
//      field validation.
// Exit status 1 on any error, each printed.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node validate.mjs RENDERED.yaml...');
  process.exit(2);
}

const errors = [];

function modelModule(apiVersion) {
  if (apiVersion === 'monitoring.coreos.com/v1') return '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
  if (!/^[a-z0-9.-]*\/?v\d+[a-z0-9]*$/.test(apiVersion)) return null;
  return `kubernetes-models/${apiVersion}`;
}

const typed = [];
for (const file of files) {
  const name = path.basename(file, '.yaml');
  const objects = [];
  for (const doc of YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
    if (doc.errors.length) errors.push(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    else if (doc.toJS() != null) objects.push(doc.toJS());
  }
  for (const o of objects) {
    const where = `${name}: ${o.kind}/${o.metadata?.name}`;
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
  console.log(`${name}: ${objects.length} objects (${objects.map((o) => o.kind).join(', ')})`);
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

if (errors.length) {
  for (const e of errors) console.error(`INVALID ${e}`);
  process.exit(1);
}
console.log(`all ${typed.length} objects valid`);
