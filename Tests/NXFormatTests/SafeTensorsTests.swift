import Foundation
import NXIR
import NXTestSupport
import Testing

@testable import NXFormat

/// A safetensors file from a header given as text and `dataBytes` bytes of data.
private func rawSafeTensors(header: String, dataBytes: Int = 0) -> [UInt8] {
    rawSafeTensors(headerBytes: Array(header.utf8), dataBytes: dataBytes)
}

private func rawSafeTensors(headerBytes: [UInt8], dataBytes: Int = 0, declaredLength: UInt64? = nil) -> [UInt8] {
    var bytes: [UInt8] = []
    withUnsafeBytes(of: (declaredLength ?? UInt64(headerBytes.count)).littleEndian) { bytes.append(contentsOf: $0) }
    bytes += headerBytes
    bytes += SampleTensors.bytes(count: dataBytes, seed: 3)
    return bytes
}

@Suite struct SafeTensorsTests {
    @Test func roundTripOfEveryTypeIsMappedAndByteIdentical() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("all.safetensors")
        let tensors = SampleTensors.everyType()
        let metadata = ["format": "pt", "note": "ünïcode \"quoted\"\nline"]
        try SafeTensorsFile.write(tensors, metadata: metadata, to: path)

        let file = try SafeTensorsFile.read(path: path)
        #expect(file.metadata == metadata)
        #expect(file.order == tensors.map(\.name).sorted())
        #expect(file.tensors.count == tensors.count)
        for (name, tensor) in tensors {
            let read = try #require(file.tensors[name])
            #expect(read.dataType == tensor.dataType, "\(name)")
            #expect(read.shape == tensor.shape, "\(name)")
            #expect(read.storage.bytes.elementsEqual(tensor.storage.bytes), "\(name)")
            #expect(read.storage.isMapped, "\(name) should view the mapped file")
        }
        // The dictionary overload writes the same bytes.
        let again = directory.file("again.safetensors")
        try SafeTensorsFile.write(Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) }), metadata: metadata, to: again)
        #expect(try Data(contentsOf: URL(fileURLWithPath: again)) == Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(try directory.contents() == ["again.safetensors", "all.safetensors"])
    }

    @Test func inMemoryReadCopiesAndMatchesTheFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("m.safetensors")
        let tensors = SampleTensors.everyType()
        try SafeTensorsFile.write(tensors, to: path)
        let encoded = try SafeTensorsFile.encode(tensors)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == encoded)

        let file = try SafeTensorsFile.read(bytes: encoded)
        #expect(file.metadata.isEmpty)
        for (name, tensor) in tensors {
            let read = try #require(file.tensors[name])
            #expect(read == tensor)
            #expect(!read.storage.isMapped)
        }
    }

    /// The byte-exact outputs of the Rust crate's own tests `test_empty` (with and without
    /// metadata): same padding rule, same JSON spelling.
    @Test func headerMatchesTheRustCrateByteForByte() throws {
        #expect(try SafeTensorsFile.encode([]) == [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32])
        #expect(
            try SafeTensorsFile.encode([], metadata: ["framework": "pt"]) == [
                40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
                95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
                116, 34, 125, 125, 32, 32, 32, 32, 32,
            ])
    }

    @Test func headerIsSortedAndPaddedToEightBytes() throws {
        let tensors: [(name: String, tensor: Tensor)] = [
            ("b", Tensor(shape: [3], scalars: [Float(1), 2, 3])),
            ("a", Tensor(shape: [1], scalars: [Int16(7)])),
        ]
        let bytes = try SafeTensorsFile.encode(tensors, metadata: ["z": "1"])
        let length = Int(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        #expect(length % 8 == 0)
        let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
        let expected = #"{"__metadata__":{"z":"1"},"a":{"data_offsets":[0,2],"dtype":"I16","shape":[1]},"b":{"data_offsets":[2,14],"dtype":"F32","shape":[3]}}"#
        #expect(header.hasPrefix(expected))
        #expect(header.dropFirst(expected.count).allSatisfy { $0 == " " })
        #expect(bytes.count == 8 + length + 14)
    }

    @Test func zeroSizeTensorsAndScalars() throws {
        let directory = try TemporaryDirectory()
        let tensors: [(name: String, tensor: Tensor)] = [
            ("scalar", Tensor(scalar: Float(2.5))),
            ("empty", Tensor(dataType: .float32, shape: [0], bytes: [])),
            ("empty2d", Tensor(dataType: .int64, shape: [3, 0], bytes: [])),
            ("scalar_bool", Tensor(scalar: true)),
        ]
        let path = directory.file("z.safetensors")
        try SafeTensorsFile.write(tensors, to: path)
        let file = try SafeTensorsFile.read(path: path)
        for (name, tensor) in tensors { #expect(file.tensors[name] == tensor, "\(name)") }
        #expect(file.tensors["scalar"]?.shape == [])
        #expect(try file.tensors["scalar"]?.scalars(as: Float.self) == [2.5])

        // Only empty tensors: the data area is empty and the file ends with the header.
        let onlyEmpty = directory.file("e.safetensors")
        try SafeTensorsFile.write(["a": Tensor(dataType: .uint8, shape: [0, 2], bytes: []), "b": Tensor(dataType: .bfloat16, shape: [0], bytes: [])], to: onlyEmpty)
        let empty = try SafeTensorsFile.read(path: onlyEmpty)
        #expect(empty.tensors["a"]?.shape == [0, 2])
        #expect(empty.tensors["b"]?.byteCount == 0)
    }

    @Test func orderFollowsOffsetsNotHeaderOrder() throws {
        let bytes = rawSafeTensors(
            header: #"{"z":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"__metadata__":{},"a":{"dtype":"U8","shape":[1],"data_offsets":[2,3]},"m":{"data_offsets":[3,3],"shape":[0],"dtype":"F64"}}"#,
            dataBytes: 3)
        let file = try SafeTensorsFile.read(bytes: bytes)
        #expect(file.order == ["z", "a", "m"])
        #expect(file.tensors["a"]?.storage.bytes.first == bytes.last)
    }

    @Test func rewritingAMappedFileInPlaceKeepsItsTensorsValid() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("w.safetensors")
        try SafeTensorsFile.write(SampleTensors.everyType(), metadata: ["v": "1"], to: path)
        let first = try SafeTensorsFile.read(path: path)
        // The old mapping still sees the old inode after the rename.
        try first.write(to: path)
        let second = try SafeTensorsFile.read(path: path)
        #expect(second.metadata == ["v": "1"])
        for (name, tensor) in first.tensors { #expect(second.tensors[name] == tensor) }
    }

    @Test func writerRejectsWhatItCannotWrite() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("bad.safetensors")
        let good = Tensor(shape: [1], scalars: [Float(1)])
        let cases: [(tensors: [(name: String, tensor: Tensor)], name: String, message: String)] = [
            ([("w", good), ("w", good)], "w", "two tensors"),
            ([("__metadata__", good)], "__metadata__", "reserved"),
            ([("short", Tensor(dataType: .float32, shape: [2], bytes: [0, 0, 0, 0]))], "short", "needs 8 bytes"),
            ([("text", Tensor(dataType: .string, shape: [1], bytes: [65]))], "text", "cannot hold string"),
        ]
        for (tensors, name, message) in cases {
            let error = #expect(throws: FormatError.self) { try SafeTensorsFile.write(tensors, to: path) }
            let description = error?.description ?? ""
            #expect(description.hasPrefix("\(path): tensor '\(name)': "), "\(description)")
            #expect(description.contains(message), "\(description)")
        }
        #expect(try directory.contents().isEmpty, "a rejected write must not leave files behind")
    }
}

/// Every malformed-header case gives a `FormatError` naming the file, and the tensor when the
/// problem is in one tensor's entry.
@Suite struct SafeTensorsHeaderErrorTests {
    struct BadFile: Sendable, CustomTestStringConvertible {
        let label: String
        let bytes: [UInt8]
        let tensor: String?
        let message: String
        var testDescription: String { label }

        init(_ label: String, _ bytes: [UInt8], tensor: String? = nil, _ message: String) {
            self.label = label
            self.bytes = bytes
            self.tensor = tensor
            self.message = message
        }

        init(_ label: String, header: String, data: Int = 0, tensor: String? = nil, _ message: String) {
            self.init(label, rawSafeTensors(header: header, dataBytes: data), tensor: tensor, message)
        }
    }

    static let cases: [BadFile] = [
        BadFile("empty file", [], "too short"),
        BadFile("shorter than 8 bytes", [1, 0, 0], "too short"),
        BadFile("header over 100 MB", rawSafeTensors(headerBytes: Array("{}".utf8), declaredLength: 100_000_001), "exceeds the 100000000-byte limit"),
        BadFile("huge header length", rawSafeTensors(headerBytes: [], declaredLength: .max), "exceeds"),
        BadFile("header past the end", rawSafeTensors(headerBytes: Array("{}".utf8), declaredLength: 64), "runs past the end of the file"),
        BadFile("empty header", header: "", "not valid JSON"),
        BadFile("truncated JSON", header: #"{"a":"#, "not valid JSON"),
        BadFile("trailing garbage", header: #"{} x"#, "not valid JSON"),
        BadFile("invalid UTF-8", rawSafeTensors(headerBytes: Array(#"{"a"#.utf8) + [0xFF] + Array(#"":1}"#.utf8)), "UTF-8"),
        BadFile("header is an array", header: "[1, 2]", "is an array, expected a JSON object"),
        BadFile("header is a string", header: #""{}""#, "expected a JSON object"),
        BadFile("deep nesting", header: String(repeating: "[", count: 100_000), "nesting"),
        BadFile("duplicate tensor", header: #"{"w":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"w":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}"#, "duplicate key \"w\""),
        BadFile("entry not an object", header: #"{"w":[1]}"#, tensor: "w", "header entry is an array"),
        BadFile("missing dtype", header: #"{"w":{"shape":[1],"data_offsets":[0,1]}}"#, data: 1, tensor: "w", "no 'dtype'"),
        BadFile("missing shape", header: #"{"w":{"dtype":"U8","data_offsets":[0,1]}}"#, data: 1, tensor: "w", "no 'shape'"),
        BadFile("missing data_offsets", header: #"{"w":{"dtype":"U8","shape":[1]}}"#, data: 1, tensor: "w", "no 'data_offsets'"),
        BadFile("dtype not a string", header: #"{"w":{"dtype":4,"shape":[1],"data_offsets":[0,1]}}"#, data: 1, tensor: "w", "dtype is a number"),
        BadFile("unknown dtype", header: #"{"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, data: 1, tensor: "w", "unsupported dtype 'F8_E4M3'"),
        BadFile("lower-case dtype", header: #"{"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}"#, data: 4, tensor: "w", "unsupported dtype 'f32'"),
        BadFile("shape not an array", header: #"{"w":{"dtype":"U8","shape":"1","data_offsets":[0,1]}}"#, data: 1, tensor: "w", "shape is a string"),
        BadFile("fractional dim", header: #"{"w":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}"#, data: 1, tensor: "w", "not an integer"),
        BadFile("boolean dim", header: #"{"w":{"dtype":"U8","shape":[true],"data_offsets":[0,1]}}"#, data: 1, tensor: "w", "not an integer"),
        BadFile("negative dim", header: #"{"w":{"dtype":"U8","shape":[-1,2],"data_offsets":[0,0]}}"#, tensor: "w", "negative dimension"),
        BadFile("overflowing shape", header: #"{"w":{"dtype":"F64","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#, tensor: "w", "too large"),
        BadFile("offsets not a pair", header: #"{"w":{"dtype":"U8","shape":[1],"data_offsets":[1]}}"#, data: 1, tensor: "w", "must be [begin, end]"),
        BadFile("offsets of strings", header: #"{"w":{"dtype":"U8","shape":[1],"data_offsets":["0","1"]}}"#, data: 1, tensor: "w", "must be [begin, end]"),
        BadFile("negative offset", header: #"{"w":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}"#, data: 1, tensor: "w", "must be [begin, end]"),
        BadFile("end before begin", header: #"{"w":{"dtype":"U8","shape":[0],"data_offsets":[4,2]}}"#, data: 4, tensor: "w", "end before they begin"),
        BadFile("end past the data", header: #"{"w":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}"#, data: 4, tensor: "w", "run past the end of the data area (4 bytes)"),
        BadFile("size mismatch", header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: 8, tensor: "w", "needs 12 bytes"),
        BadFile("overlap", header: #"{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[8],"data_offsets":[4,12]}}"#, data: 12, tensor: "b", "overlap tensor 'a'"),
        BadFile("same range twice", header: #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#, data: 4, tensor: "b", "overlap tensor 'a'"),
        BadFile("hole between tensors", header: #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[8,12]}}"#, data: 12, tensor: "b", "leave bytes 4..<8"),
        BadFile("hole at the start", header: #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}"#, data: 8, tensor: "a", "leave bytes 0..<4"),
        BadFile("trailing data", header: #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#, data: 8, "4 bytes at the end of the data area belong to no tensor"),
        BadFile("data but no tensors", header: "{}", data: 3, "3 bytes at the end"),
        BadFile("metadata not an object", header: #"{"__metadata__":["a"]}"#, "__metadata__ is an array"),
        BadFile("metadata value not a string", header: #"{"__metadata__":{"k":1}}"#, "__metadata__ entry 'k' is a number"),
        BadFile("metadata value null", header: #"{"__metadata__":{"k":null}}"#, "__metadata__ entry 'k' is null"),
    ]

    @Test(arguments: cases)
    func malformedFileIsRejectedWithItsNameAndTensor(_ bad: BadFile) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("bad.safetensors")
        try Data(bad.bytes).write(to: URL(fileURLWithPath: path))
        for (source, read) in [(path, { try SafeTensorsFile.read(path: path) }), ("<memory>", { try SafeTensorsFile.read(bytes: bad.bytes) })] {
            let error = #expect(throws: FormatError.self) { _ = try read() }
            let description = error?.description ?? ""
            let prefix = bad.tensor.map { "\(source): tensor '\($0)': " } ?? "\(source): "
            #expect(description.hasPrefix(prefix), "\(description)")
            #expect(description.contains(bad.message), "\(description)")
        }
    }

    @Test func missingFileIsReportedWithItsPath() throws {
        let error = #expect(throws: FormatError.self) { try SafeTensorsFile.read(path: "/nonexistent/x.safetensors") }
        #expect(error?.description.hasPrefix("/nonexistent/x.safetensors: cannot open") == true, "\(String(describing: error))")
    }
}

/// Bounded fuzzing: mutations of a valid file must each end in a value or a `FormatError`,
/// never a crash, a hang or another error type.
@Suite struct SafeTensorsFuzzTests {
    @Test func randomMutationsEndInAValueOrAnError() throws {
        let tensors: [(name: String, tensor: Tensor)] = [
            ("a", SampleTensors.tensor(.float32, [2, 3], seed: 1)),
            ("b", SampleTensors.tensor(.int64, [4], seed: 2)),
            ("c", SampleTensors.tensor(.uint8, [0], seed: 3)),
            ("d", SampleTensors.tensor(.bfloat16, [], seed: 4)),
        ]
        let valid = try SafeTensorsFile.encode(tensors, metadata: ["k": "v"])
        let headerEnd = 8 + Int(valid.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let directory = try TemporaryDirectory()
        var random = SeededRandom(seed: 0x5AFE_7E45)
        var accepted = 0, rejected = 0

        for iteration in 0..<3000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                switch Int.random(in: 0..<5, using: &random) {
                case 0:
                    if !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random) }
                case 1:
                    bytes.removeLast(Int.random(in: 0...bytes.count, using: &random))
                case 2:
                    let position = Int.random(in: 0...bytes.count, using: &random)
                    bytes.insert(contentsOf: (0..<Int.random(in: 1...8, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }, at: position)
                case 3:
                    // Digits in the header are the offsets and dims: change one to another digit.
                    let digits = bytes.indices.filter { $0 >= 8 && $0 < min(headerEnd, bytes.count) && (48...57).contains(bytes[$0]) }
                    if let index = digits.randomElement(using: &random) { bytes[index] = UInt8.random(in: 48...57, using: &random) }
                default:
                    // A byte of the length field, to exercise the header bounds.
                    if bytes.count >= 8 { bytes[Int.random(in: 0..<8, using: &random)] = UInt8.random(in: 0...255, using: &random) }
                }
            }
            func check(_ read: () throws -> SafeTensorsFile) {
                do {
                    let file = try read()
                    for (name, tensor) in file.tensors { #expect(tensor.sizeProblem == nil, "iteration \(iteration): \(name)") }
                    #expect(file.order.count == file.tensors.count)
                    accepted += 1
                } catch is FormatError {
                    rejected += 1
                } catch {
                    Issue.record("iteration \(iteration): unexpected error type \(type(of: error)): \(error)")
                }
            }
            check { try SafeTensorsFile.read(bytes: bytes) }
            // Every tenth case also through the mapped-file path.
            if iteration % 10 == 0 {
                let path = directory.file("fuzz.safetensors")
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                check { try SafeTensorsFile.read(path: path) }
            }
        }
        // Both outcomes occur: flipped data bytes still read, broken headers do not.
        #expect(accepted > 0 && rejected > 0)
        #expect(accepted + rejected == 3300)
    }
}

/// The files Swift writes are read identically by the reference `safetensors` package, and
/// the files it writes are read identically here.
@Suite(.enabled(if: PythonTool.shouldRun, "needs Python with numpy and safetensors: set NX_PYTHON or create .venv (under CI a missing Python fails instead)"))
struct SafeTensorsInteropTests {
    @Test func swiftWrittenFileReadsIdenticallyInPython() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("swift.safetensors")
        var tensors = SampleTensors.everyType()
        tensors.append(("scalar_f32", Tensor(scalar: Float(-1.25))))
        tensors.append(("empty_i32", Tensor(dataType: .int32, shape: [0, 3], bytes: [])))
        try SafeTensorsFile.write(tensors, metadata: ["source": "swift"], to: path)

        let script = PythonTool.converterScript("read_safetensors.py")
        let output: String
        if FileManager.default.fileExists(atPath: script) {
            output = try PythonTool.run([script, path])
        } else {
            output = try PythonTool.run(script: Self.describeScript, arguments: [path])
        }
        let described = try #require(try PythonTool.json(output) as? [String: [String: Any]])
        #expect(Set(described.keys) == Set(tensors.map(\.name)))
        for (name, tensor) in tensors {
            let entry = try #require(described[name], "\(name) missing in Python's view")
            #expect(entry["dtype"] as? String == tensor.dataType.safeTensorsName, "\(name)")
            #expect((entry["shape"] as? [Int]) == tensor.shape, "\(name)")
            #expect(entry["sha256"] as? String == tensor.withUnsafeBytes(SHA256.hex), "\(name)")
        }
        let metadata = try PythonTool.run(
            script: "import json, sys\nfrom safetensors import safe_open\nwith safe_open(sys.argv[1], 'np') as f: print(json.dumps(f.metadata()))",
            arguments: [path])
        #expect(try PythonTool.json(metadata) as? [String: String] == ["source": "swift"])
    }

    /// Used when Converters/python/read_safetensors.py is not there: the same output.
    static let describeScript = """
        import hashlib, json, struct, sys
        path = sys.argv[1]
        with open(path, 'rb') as f:
            n, = struct.unpack('<Q', f.read(8))
            header = json.loads(f.read(n))
            data = f.read()
        from safetensors import safe_open
        with safe_open(path, framework='np') as f:  # the reference reader must accept the header
            assert set(f.keys()) == {k for k in header if k != '__metadata__'}
        out = {k: {'dtype': v['dtype'], 'shape': v['shape'],
                   'sha256': hashlib.sha256(data[v['data_offsets'][0]:v['data_offsets'][1]]).hexdigest()}
               for k, v in header.items() if k != '__metadata__'}
        print(json.dumps(out))
        """

    @Test func pythonWrittenFileReadsIdenticallyInSwift() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("python.safetensors")
        // Raw bytes of each array go to NAME.bin so the comparison needs no dtype knowledge.
        let script = """
            import sys, numpy as np
            from safetensors.numpy import save_file
            out = sys.argv[1]
            rng = np.random.default_rng(7)
            arrays = {
                'f64': rng.standard_normal((2, 3)), 'f32': rng.standard_normal((4, 1, 2)).astype(np.float32),
                'f16': rng.standard_normal((5,)).astype(np.float16), 'i64': rng.integers(-9, 9, (3,), dtype=np.int64),
                'i32': rng.integers(-9, 9, (2, 2), dtype=np.int32), 'i16': rng.integers(-9, 9, (3,), dtype=np.int16),
                'i8': rng.integers(-9, 9, (6,), dtype=np.int8), 'u8': rng.integers(0, 255, (2, 5), dtype=np.uint8),
                'u16': rng.integers(0, 999, (3,), dtype=np.uint16), 'u32': rng.integers(0, 999, (1,), dtype=np.uint32),
                'u64': rng.integers(0, 999, (2,), dtype=np.uint64), 'bool': rng.integers(0, 2, (7,)).astype(bool),
                'scalar': np.array(3.5, dtype=np.float32), 'empty': np.zeros((0, 4), dtype=np.float32),
            }
            try:
                import ml_dtypes
                arrays['bf16'] = rng.standard_normal((3, 2)).astype(ml_dtypes.bfloat16)
            except ImportError:
                pass
            save_file(arrays, out + '/python.safetensors', metadata={'source': 'python', 'n': str(len(arrays))})
            for name, a in arrays.items():
                with open(out + '/' + name + '.bin', 'wb') as f:
                    f.write(np.ascontiguousarray(a).tobytes())
            print(' '.join(sorted(arrays)))
            """
        let names = try PythonTool.run(script: script, arguments: [directory.path])
            .split(whereSeparator: \.isWhitespace).map(String.init)
        let expectedTypes: [String: DataType] = [
            "f64": .float64, "f32": .float32, "f16": .float16, "i64": .int64, "i32": .int32, "i16": .int16, "i8": .int8,
            "u8": .uint8, "u16": .uint16, "u32": .uint32, "u64": .uint64, "bool": .bool, "scalar": .float32,
            "empty": .float32, "bf16": .bfloat16,
        ]
        let file = try SafeTensorsFile.read(path: path)
        #expect(file.metadata == ["source": "python", "n": String(names.count)])
        #expect(Set(file.tensors.keys) == Set(names))
        for name in names {
            let tensor = try #require(file.tensors[name])
            let raw = try Data(contentsOf: URL(fileURLWithPath: directory.file("\(name).bin")))
            #expect(tensor.storage.bytes.elementsEqual(raw), "\(name)")
            #expect(tensor.dataType == expectedTypes[name], "\(name)")
            #expect(tensor.storage.isMapped)
        }
        #expect(file.tensors["scalar"]?.shape == [])
        #expect(file.tensors["empty"]?.shape == [0, 4])
    }
}
