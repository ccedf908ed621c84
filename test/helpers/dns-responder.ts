/**
 * A tiny authoritative DNS server over UDP on loopback, for tests: it answers A, AAAA and TXT
 * queries from the records a test loads, NXDOMAIN for names it does not know, and SERVFAIL for
 * names marked so. Just enough of RFC 1035 for node:dns's Resolver.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';

export interface DnsRecords {
  a?: string[];
  aaaa?: string[];
  txt?: string[];
  /** Answer SERVFAIL for this name, whatever is asked. */
  servfail?: boolean;
}

const TYPE_A = 1;
const TYPE_TXT = 16;
const TYPE_AAAA = 28;

export class DnsResponder {
  readonly host = '127.0.0.1';
  private readonly records = new Map<string, DnsRecords>();
  /** Every name asked, lower-case, in order. */
  readonly queries: string[] = [];

  private constructor(private readonly socket: Socket) {}

  static async start(): Promise<DnsResponder> {
    const socket = createSocket('udp4');
    const responder = new DnsResponder(socket);
    socket.on('message', (message, peer) => responder.answer(message, peer));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return responder;
  }

  get port(): number {
    return this.socket.address().port;
  }

  set(name: string, records: DnsRecords): void {
    this.records.set(name.toLowerCase(), records);
  }

  clear(): void {
    this.records.clear();
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private answer(message: Buffer, peer: RemoteInfo): void {
    const question = readQuestion(message);
    if (!question) return;
    this.queries.push(question.name);
    const records = this.records.get(question.name);
    const rcode = records === undefined ? 3 : records.servfail ? 2 : 0;
    const answers = records && !records.servfail ? encodeAnswers(question.type, records) : [];
    const header = Buffer.alloc(12);
    message.copy(header, 0, 0, 2);
    // QR, opcode 0, AA, RD copied from the query; RA; the response code.
    header.writeUInt16BE(0x8400 | ((message.readUInt16BE(2) & 0x0100)) | 0x0080 | rcode, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    this.socket.send(Buffer.concat([header, question.raw, ...answers]), peer.port, peer.address);
  }
}

function readQuestion(message: Buffer): { name: string; type: number; raw: Buffer } | undefined {
  if (message.length < 17 || message.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let offset = 12;
  while (offset < message.length) {
    const length = message[offset] ?? 0;
    if (length === 0 || length > 63) break;
    labels.push(message.subarray(offset + 1, offset + 1 + length).toString('latin1'));
    offset += 1 + length;
  }
  if (message[offset] !== 0 || offset + 5 > message.length) return undefined;
  const end = offset + 5;
  return { name: labels.join('.').toLowerCase(), type: message.readUInt16BE(offset + 1), raw: message.subarray(12, end) };
}

function encodeAnswers(type: number, records: DnsRecords): Buffer[] {
  const rdatas =
    type === TYPE_A ? (records.a ?? []).map((ip) => Buffer.from(ip.split('.').map(Number)))
    : type === TYPE_AAAA ? (records.aaaa ?? []).map(ipv6Bytes)
    : type === TYPE_TXT ? (records.txt ?? []).map(txtData)
    : [];
  return rdatas.map((rdata) => {
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    fixed.writeUInt16BE(type, 2);
    fixed.writeUInt16BE(1, 4); // class IN
    fixed.writeUInt32BE(60, 6);
    fixed.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([fixed, rdata]);
  });
}

/** A TXT record's character-strings: at most 255 bytes each. */
function txtData(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  for (let offset = 0; offset < bytes.length || parts.length === 0; offset += 255) {
    const chunk = bytes.subarray(offset, offset + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat(parts);
}

function ipv6Bytes(text: string): Buffer {
  if (isIPv4(text)) throw new Error(`${text} is not IPv6`);
  const [head = '', tail = ''] = text.split('::');
  const words = (part: string): number[] => (part === '' ? [] : part.split(':').map((word) => parseInt(word, 16)));
  const left = words(head);
  const right = words(tail);
  const all = text.includes('::') ? [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right] : left;
  const bytes = Buffer.alloc(16);
  all.forEach((word, index) => bytes.writeUInt16BE(word, index * 2));
  return bytes;
}
