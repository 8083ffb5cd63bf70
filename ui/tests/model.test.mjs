// ui_model_test: how the workflow page folds status.nodes into a graph (ui/src/model.ts), on
// node trees shaped as the hub writes them. Run with `node --test ui/tests/model.test.mjs`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// model.ts is TypeScript: bundle it (with format.ts) into a module this test imports.
const bundled = await build({
  entryPoints: [fileURLToPath(new URL('../src/model.ts', import.meta.url))],
  bundle: true,
  format: 'esm',
  write: false,
  logLevel: 'error',
});
const { buildModel, collapsedGraph, summarize } = await import(
  `data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString('base64')}`
);

const T0 = 1_800_000_000_000_000; // µs
function node(id, type, phase, extra = {}) {
  return { id, name: id, displayName: id, type, phase, ...extra };
}
function task(id, phase, boundary, { fanout, index, spoke = 'local-1', start = 0, ms = 100 } = {}) {
  const hubspoke = { startedAt: T0 + start * 1000, finishedAt: T0 + (start + ms) * 1000 };
  if (fanout !== undefined) Object.assign(hubspoke, { fanout, itemIndex: index });
  return node(id, 'Pod', phase, { boundaryID: boundary, hostNodeName: spoke, hubspoke });
}
function workflow(name, nodes, spec = {}) {
  return {
    metadata: { name },
    spec,
    status: {
      phase: 'Succeeded',
      hubspoke: { startedAt: T0, finishedAt: T0 + 1_000_000 },
      nodes: Object.fromEntries(nodes.map((n) => [n.id, n])),
    },
  };
}

// steps: [start] -> [process x N] -> [done], as the hub lists them: the Steps node's children
// are its step groups, each group's children its steps.
function stepsFanout(n, phaseOf = () => 'Succeeded') {
  const items = Array.from({ length: n }, (_, i) =>
    task(`item-${i}`, phaseOf(i), 'wf', { fanout: 'process', index: i, spoke: `local-${(i % 2) + 1}`, start: 10 * i }),
  );
  return workflow('wf', [
    node('wf', 'Steps', 'Succeeded', { children: ['g0', 'g1', 'g2'] }),
    node('g0', 'StepGroup', 'Succeeded', { boundaryID: 'wf', children: ['start'] }),
    task('start', 'Succeeded', 'wf'),
    node('g1', 'StepGroup', 'Succeeded', { boundaryID: 'wf', children: items.map((i) => i.id) }),
    ...items,
    node('g2', 'StepGroup', 'Succeeded', { boundaryID: 'wf', children: ['done'] }),
    task('done', 'Succeeded', 'wf'),
  ]);
}

test('a fan-out group is one vertex with counts, chained between the step groups', () => {
  const model = buildModel(stepsFanout(3, (i) => (i === 1 ? 'Failed' : 'Succeeded')));
  const [group] = [...model.groups.values()];
  assert.equal(group.label, 'process');
  assert.equal(group.members.length, 3);
  assert.equal(group.done, 3);
  assert.deepEqual(group.counts, { Succeeded: 2, Failed: 1 });

  const view = collapsedGraph(model, new Set());
  const ids = view.vertices.map((v) => v.id);
  assert.deepEqual(ids, ['wf', 'g0', 'start', 'g1', group.id, 'g2', 'done']);
  assert.deepEqual(view.edges, [
    ['wf', 'g0'],
    ['start', 'g1'],
    [group.id, 'g2'],
    ['g0', 'start'],
    ['g1', group.id],
    ['g2', 'done'],
  ]);
});

test('an expanded group shows its items, with the same edges through each', () => {
  const model = buildModel(stepsFanout(3));
  const gid = [...model.groups.keys()][0];
  const view = collapsedGraph(model, new Set([gid]));
  assert.ok(!view.vertices.some((v) => v.id === gid));
  for (const i of [0, 1, 2]) {
    assert.ok(view.edges.some(([a, b]) => a === 'g1' && b === `item-${i}`));
    assert.ok(view.edges.some(([a, b]) => a === `item-${i}` && b === 'g2'));
  }
  assert.notEqual(view.shape, collapsedGraph(model, new Set()).shape);
});

test('what runs inside an item (retries, nested steps) folds into the group', () => {
  const nodes = [node('wf', 'Steps', 'Succeeded', { children: ['g'] }), node('g', 'StepGroup', 'Succeeded', { boundaryID: 'wf', children: ['r0', 'r1'] })];
  for (const r of ['r0', 'r1']) {
    // each item is a retry node whose attempts are nested Steps with their own group and task
    nodes.push(node(r, 'Retry', 'Succeeded', { boundaryID: 'wf', children: [`${r}-a`], hubspoke: { fanout: 'each', itemIndex: r === 'r0' ? 0 : 1 } }));
    nodes.push(node(`${r}-a`, 'Steps', 'Succeeded', { boundaryID: 'wf', children: [`${r}-g`] }));
    nodes.push(node(`${r}-g`, 'StepGroup', 'Succeeded', { boundaryID: `${r}-a`, children: [`${r}-t`] }));
    nodes.push(task(`${r}-t`, 'Succeeded', `${r}-a`));
  }
  const model = buildModel(workflow('wf', nodes));
  const view = collapsedGraph(model, new Set());
  assert.deepEqual(view.vertices.map((v) => v.id), ['wf', 'g', 'group:g:each']);
  const open = collapsedGraph(model, new Set(['group:g:each']));
  assert.equal(open.vertices.length, 2 + 2 * 4);
});

test('a single item is shown as itself', () => {
  const model = buildModel(stepsFanout(1));
  assert.equal(model.groups.size, 0);
  assert.ok(collapsedGraph(model, new Set()).vertices.some((v) => v.id === 'item-0'));
});

test('DAG edges come from the template: dependencies, depends, and a task group fanning out', () => {
  const wf = workflow(
    'd',
    [
      node('d', 'DAG', 'Succeeded', { templateName: 'main', children: ['a', 'b', 'c', 'e'] }),
      task('a', 'Succeeded', 'd'),
      node('b', 'TaskGroup', 'Succeeded', { boundaryID: 'd', children: ['b0', 'b1'] }),
      task('b0', 'Succeeded', 'd', { fanout: 'b', index: 0 }),
      task('b1', 'Succeeded', 'd', { fanout: 'b', index: 1 }),
      task('c', 'Succeeded', 'd'),
      task('e', 'Succeeded', 'd'),
    ],
    {
      templates: [
        {
          name: 'main',
          dag: {
            tasks: [
              { name: 'a' },
              { name: 'b', dependencies: ['a'] },
              { name: 'c', depends: 'b.Succeeded || a.Failed' },
              { name: 'e', depends: '!a' },
            ],
          },
        },
      ],
    },
  );
  const view = collapsedGraph(buildModel(wf), new Set());
  const g = 'group:b:b';
  assert.deepEqual(new Set(view.edges.map((e) => e.join('>'))), new Set(['d>a', 'a>b', 'b>' + g, `${g}>c`, 'a>c', 'a>e']));
});

test('10,000 items fold into one vertex quickly, and the summary counts them all', () => {
  const model = buildModel(stepsFanout(10_000, (i) => (i % 100 === 0 ? 'Failed' : 'Succeeded')));
  const t0 = performance.now();
  const view = collapsedGraph(model, new Set());
  const ms = performance.now() - t0;
  assert.equal(view.vertices.length, 7);
  assert.ok(ms < 200, `collapsing took ${ms} ms`);
  const s = summarize(model, stepsFanout(1), T0 + 1_000_000);
  assert.equal(s.tasks, 10_002);
  assert.equal(s.byPhase.Failed, 100);
  assert.equal(s.failed.length, 100);
  assert.equal(s.spokes.length, 2);
  assert.equal(s.slowest.length, 5);
  assert.ok(s.speedUp > 1, `speed-up ${s.speedUp}`);
});
