// A tiny worker app for the `pushq serve` example: it prints one line per push request with the
// App Engine headers it got, and answers like a real handler would:
//   /fail-twice/...  503 on the first two attempts (X-AppEngine-TaskRetryCount 0 and 1), then 200
//   /slow/...        200 after 2 seconds
//   anything else    200
// Usage: node examples/serve/worker.mjs [PORT]   (default 8080; 0 picks a free port)
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 8080);

const server = createServer((req, res) => {
  let bytes = 0;
  req.on('data', (chunk) => (bytes += chunk.length));
  req.on('end', () => {
    const h = req.headers;
    const retry = Number(h['x-appengine-taskretrycount'] ?? 0);
    const status = req.url.startsWith('/fail-twice/') && retry < 2 ? 503 : 200;
    const delayMs = req.url.startsWith('/slow/') ? 2000 : 0;
    setTimeout(() => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'done\n' : 'try again\n');
      const previous = h['x-appengine-taskpreviousresponse'] ? ` previous=${h['x-appengine-taskpreviousresponse']}` : '';
      console.log(
        `${req.method} ${req.url} queue=${h['x-appengine-queuename']} task=${h['x-appengine-taskname']} ` +
          `retry=${retry} executions=${h['x-appengine-taskexecutioncount']}${previous} body=${bytes}B -> ${status}`,
      );
    }, delayMs);
  });
});

server.listen(port, '127.0.0.1', () => console.log(`worker listening on http://127.0.0.1:${server.address().port}`));
