// Hand-assembled GGUF bytes for hostile-file tests: every field is ours to get wrong on purpose,
// which the real writer would refuse to do.

export class RawGguf {
  private readonly parts: Buffer[] = [];

  bytes(data: Buffer | Uint8Array | string): this {
    this.parts.push(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data));
    return this;
  }

  u32(value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0);
    return this.bytes(b);
  }

  i64(value: bigint | number): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(value));
    return this.bytes(b);
  }

  u64(value: bigint | number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value));
    return this.bytes(b);
  }

  str(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    return this.u64(bytes.length).bytes(bytes);
  }

  /** Magic, version and the two counts. */
  header(nTensors: bigint | number, nKv: bigint | number, version = 3, magic = 'GGUF'): this {
    return this.bytes(magic).u32(version).i64(nTensors).i64(nKv);
  }

  kvU32(key: string, value: number): this {
    return this.str(key).u32(4).u32(value);
  }

  kvString(key: string, value: string): this {
    return this.str(key).u32(8).str(value);
  }

  tensorInfo(name: string, ne: (bigint | number)[], type: number, offset: bigint | number): this {
    this.str(name).u32(ne.length);
    for (const n of ne) this.i64(n);
    return this.u32(type).u64(offset);
  }

  /** Zero bytes up to a multiple of `alignment`. */
  pad(alignment = 32): this {
    const length = this.length();
    const target = Math.ceil(length / alignment) * alignment;
    return this.bytes(Buffer.alloc(target - length));
  }

  length(): number {
    return this.parts.reduce((sum, p) => sum + p.length, 0);
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}
