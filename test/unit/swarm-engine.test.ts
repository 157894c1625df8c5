import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeMatches, toInfo, type ApiNode, type ApiService, type ApiTask } from '../../src/engine/swarm/swarm-engine.js';
import { nodeProblem } from '../../src/core/list.js';
import { envPortHost } from '../../src/engine/endpoint.js';

const worker: ApiNode = {
  ID: 'm0gwj0zxlks898ww9acu57ji0',
  Description: { Hostname: 'box2' },
  Status: { State: 'ready', Addr: '10.77.0.2' },
  Spec: { Availability: 'active', Labels: { zone: 'b' } },
};
const manager: ApiNode = {
  ID: 'hfw0c82k1ovv0hxkz09hijy76',
  Description: { Hostname: 'box1' },
  Status: { State: 'ready', Addr: '0.0.0.0' },
  Spec: { Availability: 'active' },
  ManagerStatus: { Addr: '10.77.0.1:2377' },
};

function service(replicas: number, labels: Record<string, string> = { 'dev.spoon.swarm.seeded': 'yes' }): ApiService {
  return {
    ID: 'svc1',
    Version: { Index: 1 },
    CreatedAt: '2026-01-01T00:00:00Z',
    Spec: {
      Name: 'spoon-a',
      Labels: labels,
      TaskTemplate: { ContainerSpec: { Image: 'spoon-default:1@sha256:abcd' } },
      Mode: { Replicated: { Replicas: replicas } },
    },
  };
}

function task(id: string, state: string, desired: string, extra: Partial<ApiTask> = {}): ApiTask {
  return {
    ID: id,
    ServiceID: 'svc1',
    NodeID: worker.ID,
    DesiredState: desired,
    CreatedAt: `2026-01-01T00:00:0${id.slice(-1)}Z`,
    Version: { Index: 1 },
    Status: { Timestamp: '2026-01-01T00:01:00Z', State: state, PortStatus: { Ports: [{ Protocol: 'tcp', TargetPort: 22, PublishedPort: 32768, PublishMode: 'host' }] } },
    ...extra,
  };
}

describe('swarm service → ContainerInfo', () => {
  test('a running task: running, its node, its host-mode port at the node address', () => {
    const c = toInfo(service(1), [task('t1', 'failed', 'shutdown'), task('t2', 'running', 'running')], [worker, manager]);
    assert.equal(c.state, 'running');
    assert.equal(c.id, 'svc1');
    assert.equal(c.image, 'spoon-default:1');
    assert.deepEqual(c.ports, [{ container: 22, protocol: 'tcp', host: 32768, hostIp: '10.77.0.2' }]);
    assert.deepEqual(c.node, { id: worker.ID, hostname: 'box2', addr: '10.77.0.2', state: 'ready', availability: 'active' });
  });

  test('never started (no seed yet) is created; replicas 0 is stopped; a task that exited 0 is stopped', () => {
    assert.equal(toInfo(service(0, {}), [], [worker]).state, 'created');
    assert.equal(toInfo(service(0), [task('t1', 'shutdown', 'shutdown')], [worker]).state, 'stopped');
    assert.equal(toInfo(service(1), [task('t1', 'complete', 'running')], [worker]).state, 'stopped');
  });

  test('a task being replaced or waiting for its node is restarting, with no ports', () => {
    const c = toInfo(service(1), [task('t1', 'failed', 'shutdown'), task('t2', 'pending', 'running')], [worker]);
    assert.equal(c.state, 'restarting');
    assert.deepEqual(c.ports, []);
  });

  test("a manager's node address comes from its manager address when Status.Addr is 0.0.0.0", () => {
    const c = toInfo(service(1), [task('t1', 'running', 'running', { NodeID: manager.ID })], [worker, manager]);
    assert.equal(c.node?.addr, '10.77.0.1');
  });
});

describe('node selector', () => {
  test('id, id prefix, hostname and label=value', () => {
    assert.ok(nodeMatches(worker, worker.ID));
    assert.ok(nodeMatches(worker, 'm0gwj0'));
    assert.ok(nodeMatches(worker, 'box2'));
    assert.ok(nodeMatches(worker, 'zone=b'));
    assert.ok(!nodeMatches(worker, 'zone=a'));
    assert.ok(!nodeMatches(worker, 'box1'));
    assert.ok(!nodeMatches(worker, 'm0g'), 'a prefix shorter than 4 matches nothing');
  });
});

describe('nodeProblem', () => {
  const node = { id: worker.ID, hostname: 'box2', addr: '10.77.0.2', state: 'ready', availability: 'active' };
  test('says why a node cannot run its envs, or nothing', () => {
    assert.equal(nodeProblem(undefined), undefined);
    assert.equal(nodeProblem(node), undefined);
    assert.match(nodeProblem({ ...node, state: 'down' }) ?? '', /^node m0gwj0zxlks8 \(box2, 10\.77\.0\.2\) is down/);
    assert.match(nodeProblem({ ...node, availability: 'drain' }) ?? '', /is drained/);
  });

  test("an env's ssh host is its node's address when it has one", () => {
    const endpoint = { kind: 'unix' as const, url: 'unix:///x', socketPath: '/x' };
    assert.equal(envPortHost(endpoint, '127.0.0.1', { addr: '10.77.0.2' }), '10.77.0.2');
    assert.equal(envPortHost(endpoint, '0.0.0.0', undefined), '127.0.0.1');
  });
});
