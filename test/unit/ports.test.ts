import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/ports.js';

const PORTS_MODULE = fileURLToPath(new URL('../helpers/ports.js', import.meta.url));

/** The kernel's range for listen(0) and outgoing connections (Linux; the usual default elsewhere). */
function ephemeralRange(): [number, number] {
  const file = '/proc/sys/net/ipv4/ip_local_port_range';
  if (!existsSync(file)) return [49152, 65535];
  const [low = 0, high = 0] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
  return [low, high];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` ports from freePort() in a process of its own, which lives on until `end()`. */
function portsOfAnotherProcess(count: number): Promise<{ ports: number[]; end: () => void }> {
  const script = `const { freePort } = await import(${JSON.stringify(PORTS_MODULE)});
const ports = [];
for (let i = 0; i < ${count}; i++) ports.push(await freePort());
console.log(JSON.stringify(ports));
process.stdin.resume();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.endsWith('\n')) resolve({ ports: JSON.parse(output) as number[], end: () => child.stdin.end() });
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the child exited with ${code} before printing its ports`)));
  });
}

describe('freePort', () => {
  it('hands out distinct free ports outside the kernel ephemeral range, more than one slice of them', async () => {
    const [low, high] = ephemeralRange();
    const ports: number[] = [];
    for (let i = 0; i < 100; i++) ports.push(await freePort());
    assert.equal(new Set(ports).size, ports.length);
    for (const port of ports) {
      assert.ok(port >= 1024 && (port < low || port > high), `${port} is in the ephemeral range ${low}-${high}`);
      assert.ok(await canListen(port), `${port} is not free`);
    }
  });

  it('never gives two processes running at once the same port', async () => {
    // Ports are only promised to processes that live at the same time: the children wait.
    const children = await Promise.all([portsOfAnotherProcess(80), portsOfAnotherProcess(80)]);
    try {
      const mine = [await freePort(), await freePort()];
      const all = [...children.flatMap((child) => child.ports), ...mine];
      assert.equal(all.length, 162);
      assert.equal(new Set(all).size, all.length);
    } finally {
      for (const child of children) child.end();
    }
  });
});
