/**
 * A tiny ONNX model writer: just enough protobuf to hand-encode single-node models in memory for
 * the onnxruntime-web benchmarks, so no .onnx files and no protobuf library are needed.
 *
 * Protobuf wire format (https://protobuf.dev/programming-guides/encoding/): each field is a
 * varint key `(fieldNumber << 3) | wireType` followed by its value; wire type 0 = varint (int32,
 * int64, enum), 2 = length-delimited (string, bytes, embedded message, packed repeated). Repeated
 * message / string fields are written as one key + value per element.
 *
 * Field numbers are those of onnx/onnx.proto (IR version 9, ONNX 1.14+):
 *   ModelProto         ir_version = 1, opset_import = 8, producer_name = 2, graph = 7
 *   OperatorSetIdProto domain = 1, version = 2
 *   GraphProto         node = 1, name = 2, initializer = 5, input = 11, output = 12
 *   NodeProto          input = 1, output = 2, name = 3, op_type = 4, attribute = 5
 *   AttributeProto     name = 1, i = 3, type = 20 (AttributeType.INT = 2)
 *   ValueInfoProto     name = 1, type = 2
 *   TypeProto          tensor_type = 1
 *   TypeProto.Tensor   elem_type = 1, shape = 2
 *   TensorShapeProto   dim = 1;  Dimension: dim_value = 1
 *   TensorProto        dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian bytes)
 */

/** TensorProto.DataType values (onnx.proto) for the element types the benchmarks use. */
export const ElemType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  FLOAT16: 10,
  FLOAT8E4M3FN: 17,
} as const;
export type ElemType = (typeof ElemType)[keyof typeof ElemType];

/** A graph input or output: name, element type and a fixed shape. */
export interface ValueInfo {
  readonly name: string;
  readonly elemType: ElemType;
  readonly shape: readonly number[];
}

/** A constant tensor stored in the graph (its bytes little-endian, as ONNX raw_data). */
export interface Initializer {
  readonly name: string;
  readonly elemType: ElemType;
  readonly dims: readonly number[];
  readonly raw: Uint8Array;
}

export interface NodeSpec {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Integer attributes only (Cast `to`, `saturate`), which is all these models need. */
  readonly intAttributes?: Readonly<Record<string, number>>;
}

export interface ModelSpec {
  readonly nodes: readonly NodeSpec[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly initializers?: readonly Initializer[];
  /** Default-domain opset (default 19: Cast with `saturate` and float8 types). */
  readonly opset?: number;
  /** IR version (default 9, the one opset 19 belongs to). */
  readonly irVersion?: number;
}

/** Bytes of one protobuf message, built field by field (large byte fields kept as chunks). */
class Writer {
  private readonly parts: Uint8Array[] = [];
  private pending: number[] = [];

  private varint(value: number): void {
    // Non-negative integers up to 2^53 (all these models need); int64 fields are varints too.
    if (!(Number.isSafeInteger(value) && value >= 0)) throw new Error(`varint out of range: ${value}`);
    let v = value;
    while (v >= 0x80) {
      this.pending.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.pending.push(v);
  }

  private key(field: number, wireType: 0 | 2): void {
    this.varint(field * 8 + wireType);
  }

  private flush(): void {
    if (this.pending.length > 0) this.parts.push(Uint8Array.from(this.pending));
    this.pending = [];
  }

  int(field: number, value: number): this {
    this.key(field, 0);
    this.varint(value);
    return this;
  }

  bytesField(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.varint(value.length);
    this.flush();
    this.parts.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  message(field: number, value: Writer): this {
    return this.bytesField(field, value.finish());
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.parts.reduce((sum, p) => sum + p.length, 0));
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

function valueInfo(v: ValueInfo): Writer {
  const shape = new Writer();
  for (const d of v.shape) shape.message(1, new Writer().int(1, d)); // TensorShapeProto.dim { dim_value }
  const tensor = new Writer().int(1, v.elemType).message(2, shape); // TypeProto.Tensor
  return new Writer().string(1, v.name).message(2, new Writer().message(1, tensor)); // ValueInfoProto
}

function node(n: NodeSpec, index: number): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, `${n.opType.toLowerCase()}_${index}`).string(4, n.opType);
  for (const [name, value] of Object.entries(n.intAttributes ?? {})) {
    w.message(5, new Writer().string(1, name).int(3, value).int(20, 2)); // AttributeProto, type INT
  }
  return w;
}

function initializer(t: Initializer): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  return w.int(2, t.elemType).string(8, t.name).bytesField(9, t.raw);
}

/** The serialized ModelProto of a one-graph model in the default ONNX domain. */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const graph = new Writer();
  spec.nodes.forEach((n, i) => graph.message(1, node(n, i)));
  graph.string(2, "numforge_bench");
  for (const t of spec.initializers ?? []) graph.message(5, initializer(t));
  for (const v of spec.inputs) graph.message(11, valueInfo(v));
  for (const v of spec.outputs) graph.message(12, valueInfo(v));
  return new Writer()
    .int(1, spec.irVersion ?? 9)
    .string(2, "numforge-bench")
    .message(7, graph)
    .message(8, new Writer().string(1, "").int(2, spec.opset ?? 19))
    .finish();
}
