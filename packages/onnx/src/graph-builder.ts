import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX element types this package uses (TensorProto.DataType). */
export const DType = { float: 1, int64: 7, bool: 9 } as const;
export type DTypeName = keyof typeof DType;

/** The default ONNX domain's opset the graphs are written against (ORT ≥ 1.13 runs it). */
export const OPSET = 17;

/** ONNX Runtime's contrib operator domain. */
export const MS_DOMAIN = 'com.microsoft';

/** An attribute: an integer, integers, a string, a float ({ f }), or a tensor. */
type Attr = number | number[] | string | { f: number } | { tensor: Float32Array | BigInt64Array; dims: number[] };

/**
 * A small op-level ONNX graph builder: every `op` call appends one node and returns the name of
 * its (first) output; initializers keep the names they are given (the checkpoint's tensor names),
 * so a later training graph can address the same weights. `encode()` gives the ModelProto's bytes
 * (onnx-proto, the protobuf classes generated from onnx.proto).
 */
export class GraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly constants = new Map<string, string>();
  private readonly weightNames = new Set<string>();
  private readonly domains = new Set<string>();
  private count = 0;

  constructor(readonly name: string) {}

  /** A graph input; a string dim is symbolic (e.g. 'batch'). */
  input(name: string, type: DTypeName, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Marks `value` as the graph output `name` (an Identity when the names differ). */
  output(value: string, name: string, type: DTypeName, dims: (number | string)[]): void {
    if (value !== name) this.op('Identity', [value], {}, name);
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A float32 weight, stored once as raw little-endian bytes under its own name. */
  initializer(name: string, data: Float32Array, dims: number[]): string {
    if (this.weightNames.has(name)) return name;
    this.weightNames.add(name);
    if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`initializer ${name}: ${data.length} values for dims [${dims}]`);
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims,
        dataType: DType.float,
        rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      }),
    );
    return name;
  }

  /** A constant tensor (deduplicated by value), as an initializer. */
  constant(values: number[] | Float32Array, type: 'float' | 'int64', dims: number[] = [values.length]): string {
    const key = `${type}:${dims.join('x')}:${Array.from(values).join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = `const_${this.constants.size}`;
    const bytes =
      type === 'float'
        ? new Uint8Array(Float32Array.from(values).buffer)
        : new Uint8Array(BigInt64Array.from(Array.from(values), (v) => BigInt(v)).buffer);
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: DType[type], rawData: bytes }));
    this.constants.set(key, name);
    return name;
  }

  /** A scalar int64 constant (rank 0). */
  scalar(value: number): string {
    return this.constant([value], 'int64', []);
  }

  /** Appends one node; returns its first output's name (`out`, or a fresh one). '' skips an optional input. */
  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}, out?: string, outputCount = 1): string {
    return this.node('', type, inputs, attrs, out, outputCount);
  }

  /**
   * Appends one node of ONNX Runtime's contrib domain (com.microsoft: fused kernels that ORT's
   * own optimizer emits, such as SkipSimplifiedLayerNormalization or RotaryEmbedding); the
   * domain's opset is imported when the first such node is added.
   */
  contrib(type: string, inputs: string[], attrs: Record<string, Attr> = {}, out?: string, outputCount = 1): string {
    return this.node(MS_DOMAIN, type, inputs, attrs, out, outputCount);
  }

  private node(
    domain: string,
    type: string,
    inputs: string[],
    attrs: Record<string, Attr>,
    out: string | undefined,
    outputCount: number,
  ): string {
    if (domain) this.domains.add(domain);
    const first = out ?? `${type.toLowerCase()}_${this.count}`;
    const outputs = [first, ...Array.from({ length: outputCount - 1 }, (_, i) => `${first}_${i + 1}`)];
    this.nodes.push(
      onnx.NodeProto.create({
        opType: type,
        domain,
        name: `${type}_${this.count++}`,
        input: inputs,
        output: outputs,
        attribute: Object.entries(attrs).map(([name, v]) => attribute(name, v)),
      }),
    );
    return first;
  }

  /** The ModelProto's protobuf bytes. */
  encode(): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'irpo',
      opsetImport: [
        onnx.OperatorSetIdProto.create({ domain: '', version: OPSET }),
        ...[...this.domains].map((domain) => onnx.OperatorSetIdProto.create({ domain, version: 1 })),
      ],
      graph: onnx.GraphProto.create({
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }

  /** Node count by op type (tests, diagnostics). */
  opCounts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const n of this.nodes) m.set(n.opType, (m.get(n.opType) ?? 0) + 1);
    return m;
  }
}

function valueInfo(name: string, type: DTypeName, dims: (number | string)[]): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: DType[type],
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create(typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        }),
      }),
    }),
  });
}

function attribute(name: string, v: Attr): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer (write { f: ${v} } for a float)`);
    return onnx.AttributeProto.create({ name, type: T.INT, i: v });
  }
  if ('f' in v) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.f });
  const isFloat = v.tensor instanceof Float32Array;
  return onnx.AttributeProto.create({
    name,
    type: T.TENSOR,
    t: onnx.TensorProto.create({
      dims: v.dims,
      dataType: isFloat ? DType.float : DType.int64,
      rawData: new Uint8Array(v.tensor.buffer, v.tensor.byteOffset, v.tensor.byteLength),
    }),
  });
}
