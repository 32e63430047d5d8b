/**
 * A call the cluster's router has read and hands to a queue's service in process (a copy:
 * src/cluster/buffered-request.ts) is counted in the node's body budget: the service reads the
 * copy's body into bytes of its own while the router holds the original's. With an account of its
 * own the copy's bytes went to the service's budget, and a node held up to twice its bound.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { expect, it } from 'vitest';
import { bufferedRequest } from '../../src/cluster/buffered-request.js';
import { BodyBudget, chargeBody, openBodyAccount } from '../../src/server/body-budget.js';

it("a buffered copy's body is charged to the original call's account, and let go with its answer", async () => {
  const node = new BodyBudget(100);
  const service = new BodyBudget(100);
  const original = new IncomingMessage(new Socket());
  original.method = 'POST';
  original.url = '/rpc_http';
  const res = new ServerResponse(original);
  openBodyAccount(node, original, res);
  chargeBody(original, 60); // the router read the call's body
  const copy = bufferedRequest(original, Buffer.alloc(60));
  openBodyAccount(service, copy, res); // what the service's server does with a request it is handed
  chargeBody(copy, 30);
  expect(node.heldBytes).toBe(90);
  expect(service.heldBytes).toBe(0);
  expect(() => chargeBody(copy, 30)).toThrow(/request bodies at once/); // past the node's bound
  expect(node.heldBytes).toBe(0); // refused: everything the call held let go
  chargeBody(original, 10);
  res.emit('close');
  expect(node.heldBytes).toBe(0);
});
