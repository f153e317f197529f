// Produces OTLP/HTTP logs request bodies with the real OpenTelemetry JS SDK and exporters, for
// Skald's tests. Starts a local HTTP listener, points the exporters at it and saves each raw
// request body (as sent on the wire, still compressed when the exporter compresses) next to
// this directory: ../sdk-<exporter>[-gzip].<bin|json|json.gz|bin.gz>, plus a .headers file.
//
// Usage: cd testdata/otlp/gen && npm install && node gen.js
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');

const api = require('@opentelemetry/api');
const { SeverityNumber } = require('@opentelemetry/api-logs');
const { LoggerProvider } = require('@opentelemetry/sdk-logs');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { OTLPLogExporter: ProtoExporter } = require('@opentelemetry/exporter-logs-otlp-proto');
const { OTLPLogExporter: HttpExporter } = require('@opentelemetry/exporter-logs-otlp-http');

const OUT = path.join(__dirname, '..');

// Fixed times so the bodies are reproducible: 2026-01-02T03:04:05.123456789Z and friends.
const T0 = [1767323045, 123456789];  // HrTime [seconds, nanos]

function emit(provider) {
  const logger = provider.getLogger('checkout-logger', '1.4.2', {
    schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
  });
  const spanContext = {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: api.TraceFlags.SAMPLED,
  };
  const ctx = api.trace.setSpanContext(api.context.active(), spanContext);
  logger.emit({
    timestamp: T0,
    observedTimestamp: [T0[0], T0[1] + 1000],
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    body: 'order 1234 placed',
    attributes: {
      'http.method': 'POST',
      'http.status_code': 201,
      'order.total': 12.5,
      'user.vip': true,
      'tags': ['a', 'b'],
    },
    context: ctx,
  });
  logger.emit({
    timestamp: [T0[0] + 1, 0],
    observedTimestamp: [T0[0] + 1, 5],
    severityNumber: SeverityNumber.ERROR,
    severityText: 'ERROR',
    body: { msg: 'payment failed', code: 402, retry: false, detail: { gateway: 'stripe' } },
    attributes: { 'error.type': 'card_declined', 'req': { id: 'r-1', size: 5 } },
  });
  logger.emit({
    timestamp: [T0[0] + 2, 500],
    observedTimestamp: [T0[0] + 2, 600],
    severityNumber: SeverityNumber.WARN2,
    body: ['x', 1, 2.5, true],
    eventName: 'checkout.retry',
  });
  logger.emit({
    timestamp: [T0[0] + 3, 0],
    observedTimestamp: [T0[0] + 3, 0],
    severityNumber: SeverityNumber.DEBUG,
    severityText: 'debug',
    body: 42,
  });
}

function resource() {
  return resourceFromAttributes({
    'service.name': 'checkout',
    'service.namespace': 'shop',
    'service.version': '2.3.0',
    'deployment.environment.name': 'prod',
    'k8s.pod.name': 'checkout-7d9f',
    'host.name': 'node-1',
    'process.pid': 4242,
  });
}

async function capture(name, makeExporter) {
  const bodies = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ headers: req.headers, url: req.url, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'Content-Type': req.headers['content-type'] || 'application/json' });
      res.end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/otlp/v1/logs`;
  const exporter = makeExporter(url);
  // One request with every record: a tiny processor buffers them and exports on flush.
  const records = [];
  const processor = {
    onEmit: (r) => records.push(r),
    forceFlush: () =>
      new Promise((resolve) => exporter.export(records.splice(0), () => resolve())),
    shutdown: () => Promise.resolve(),
  };
  const provider = new LoggerProvider({ resource: resource(), processors: [processor] });
  emit(provider);
  await provider.forceFlush();
  await exporter.shutdown();
  await new Promise((r) => server.close(r));
  for (const b of bodies) {
    const enc = b.headers['content-encoding'] || '';
    const ct = b.headers['content-type'] || '';
    let ext = ct.includes('json') ? 'json' : 'bin';
    if (enc === 'gzip') ext += '.gz';
    const file = path.join(OUT, `sdk-${name}.${ext}`);
    fs.writeFileSync(file, b.body);
    fs.writeFileSync(
        file + '.headers',
        `POST ${b.url}\ncontent-type: ${ct}\ncontent-encoding: ${enc}\n`);
    console.log(`${file}: ${b.body.length} bytes, content-type ${ct}, encoding '${enc}'`);
  }
}

(async () => {
  await capture('proto', (url) => new ProtoExporter({ url }));
  await capture('proto-gzip', (url) => new ProtoExporter({ url, compression: 'gzip' }));
  await capture('http-json', (url) => new HttpExporter({ url }));
  await capture('http-json-gzip', (url) => new HttpExporter({ url, compression: 'gzip' }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
