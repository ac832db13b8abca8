import Foundation
import NXIR
import NXTestSupport
import Testing

@testable import NXFormat

/// A `.npy` file with the given version, header dict text (padded as numpy does unless
/// `pad` is false) and data bytes.
private func rawNpy(version: UInt8 = 1, header: String, data: [UInt8], pad: Bool = true) -> [UInt8] {
    var text = Array(header.utf8)
    let prefix = version == 1 ? 10 : 12
    if pad {
        while (prefix + text.count + 1) % 64 != 0 { text.append(UInt8(ascii: " ")) }
    }
    text.append(UInt8(ascii: "\n"))
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
    if version == 1 {
        withUnsafeBytes(of: UInt16(text.count).littleEndian) { bytes.append(contentsOf: $0) }
    } else {
        withUnsafeBytes(of: UInt32(text.count).littleEndian) { bytes.append(contentsOf: $0) }
    }
    return bytes + text + data
}

@Suite struct NpyTests {
    @Test func roundTripOfEveryTypeIsMappedAndByteIdentical() throws {
        let directory = try TemporaryDirectory()
        for (name, tensor) in SampleTensors.everyType(except: [.bfloat16]) {
            let path = directory.file("\(name).npy")
            try Npy.write(tensor, to: path)
            let read = try Npy.read(path: path)
            #expect(read == tensor, "\(name)")
            #expect(read.storage.isMapped, "\(name)")
            let encoded = try Npy.encode(tensor)
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == encoded, "\(name)")
            let decoded = try Npy.decode(bytes: encoded)
            #expect(decoded == tensor, "\(name)")
            #expect(!decoded.storage.isMapped)
        }
    }

    /// The exact bytes `numpy.save(np.zeros((2, 3), np.float32))` writes (numpy 2.x): the dict,
    /// numpy's 21-digit growth padding, spaces to 64 bytes and a newline.
    @Test func headerIsByteIdenticalToNumpy() throws {
        let bytes = try Npy.encode(Tensor(shape: [2, 3], scalars: [Float](repeating: 0, count: 6)))
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
        let expected = [0x93] + Array("NUMPY".utf8) + [1, 0, 118, 0] + Array(dict.utf8)
            + [UInt8](repeating: 0x20, count: 128 - 10 - dict.utf8.count - 1) + [0x0A]
        #expect(Array(bytes.prefix(128)) == expected)
        #expect(bytes.count == 128 + 24)

        for shape in [[], [0], [3], [100_000, 1], [1, 2, 3, 4, 5, 6, 7, 8]] {
            let encoded = try Npy.encode(SampleTensors.tensor(.uint8, shape, seed: 0))
            let headerLength = Int(encoded[8]) | Int(encoded[9]) << 8
            #expect((10 + headerLength) % 64 == 0, "\(shape)")
            #expect(encoded[10 + headerLength - 1] == 0x0A)
        }
        let scalar = try Npy.encode(Tensor(scalar: Double(1.5)))
        #expect(String(decoding: scalar[10...], as: UTF8.self).hasPrefix("{'descr': '<f8', 'fortran_order': False, 'shape': (), }  "))
        let vector = try Npy.encode(Tensor(shape: [3], scalars: [true, false, true]))
        #expect(String(decoding: vector[10...], as: UTF8.self).hasPrefix("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }  "))
    }

    @Test func zeroSizeAndScalarTensors() throws {
        let directory = try TemporaryDirectory()
        let tensors = [
            Tensor(scalar: Int64(-5)),
            Tensor(dataType: .float32, shape: [0], bytes: []),
            Tensor(dataType: .int16, shape: [4, 0, 2], bytes: []),
            Tensor(scalar: true),
        ]
        for (index, tensor) in tensors.enumerated() {
            let path = directory.file("\(index).npy")
            try Npy.write(tensor, to: path)
            #expect(try Npy.read(path: path) == tensor)
        }
    }

    /// A header too long for version 1.0's 16-bit length field is written as version 2.0.
    @Test func longHeaderUsesVersionTwo() throws {
        let tensor = Tensor(dataType: .uint8, shape: [Int](repeating: 1, count: 25_000), bytes: [42])
        let bytes = try Npy.encode(tensor)
        #expect(bytes[6] == 2 && bytes[7] == 0)
        let headerLength = bytes[8..<12].reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(headerLength > Int(UInt16.max))
        #expect((12 + headerLength) % 64 == 0)
        #expect(try Npy.decode(bytes: bytes) == tensor)
    }

    @Test func readsVersionsTwoAndThree() throws {
        let data: [UInt8] = [1, 0, 2, 0, 3, 0]
        for version: UInt8 in [1, 2, 3] {
            let bytes = rawNpy(version: version, header: "{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }", data: data)
            let tensor = try Npy.decode(bytes: bytes)
            #expect(try tensor.scalars(as: Int16.self) == [1, 2, 3], "version \(version)")
        }
        // Version 3.0 headers are UTF-8; 1.0 and 2.0 are latin-1, where any byte is a character.
        var invalid = rawNpy(version: 3, header: "{'descr': '<u2', 'fortran_order': False, 'shape': (1,), }", data: [1, 0])
        invalid[invalid.count - 4] = 0xFF
        let error = #expect(throws: FormatError.self) { try Npy.decode(bytes: invalid) }
        #expect(error?.description.contains("not valid UTF-8") == true)
    }

    /// Headers as other writers (Python 2 numpy, hand-written files) spell them.
    @Test(arguments: [
        ("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}", DataType.float32, [2]),
        ("{'shape':(2,),'fortran_order':False,'descr':'<f4'}", .float32, [2]),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }", .float32, [2]),
        ("{ 'descr' : '<u2' ,\n 'fortran_order' : False ,\n 'shape' : ( 1 , 1 , ) , }", .uint16, [1, 1]),
        ("{'descr': '<u1', 'fortran_order': False, 'shape': (4,), }", .uint8, [4]),
        ("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", .uint8, [2, 2]),
        ("{'descr': '|i1', 'fortran_order': False, 'shape': (4,), }", .int8, [4]),
        ("{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", .bool, [4]),
        ("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", .float16, [2]),
        ("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", .float64, []),
        ("{'descr': '<i8', 'fortran_order': False, 'shape': (0, 5), }", .int64, [0, 5]),
        ("{'descr': '<u4', 'fortran_order': False, 'shape': (1,), }", .uint32, [1]),
        ("{'descr': '<u8', 'fortran_order': False, 'shape': (), }", .uint64, []),
        ("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", .int32, [1]),
        ("{'descr': '=f4', 'fortran_order': False, 'shape': (1,), }", .float32, [1]),
    ])
    func headerSpellings(header: String, dataType: DataType, shape: [Int]) throws {
        let count = elementCount(shape) * dataType.byteSize!
        let data = SampleTensors.bytes(count: count, seed: 1, bool: dataType == .bool)
        for pad in [true, false] {
            let tensor = try Npy.decode(bytes: rawNpy(header: header, data: data, pad: pad))
            #expect(tensor.dataType == dataType)
            #expect(tensor.shape == shape)
            #expect(tensor.storage.bytes.elementsEqual(data))
        }
    }

    @Test(arguments: [
        (rawNpy(header: "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0]), "big-endian dtype '>f4'"),
        (rawNpy(header: "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", data: [UInt8](repeating: 0, count: 16)), "Fortran-order"),
        (rawNpy(header: "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", data: [UInt8](repeating: 0, count: 8)), "unsupported dtype '<c8'"),
        (rawNpy(header: "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", data: [UInt8](repeating: 0, count: 8)), "unsupported dtype '|O'"),
        (rawNpy(header: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0]), "structured dtypes"),
        (rawNpy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", data: [UInt8](repeating: 0, count: 12)), "'shape' is not a tuple"),
        (rawNpy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", data: []), "negative dimension"),
        (rawNpy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': ('a',), }", data: []), "other than integers"),
        (rawNpy(header: "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", data: [0, 0, 0, 0]), "not True or False"),
        (rawNpy(header: "{'descr': '<f4', 'shape': (1,), }", data: [0, 0, 0, 0]), "no 'fortran_order'"),
        (rawNpy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", data: [0, 0, 0, 0]), "unexpected key 'x'"),
        (rawNpy(header: "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", data: [0, 0, 0, 0]), "duplicate key"),
        (rawNpy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", data: [0, 0, 0, 0]), "invalid header"),
        (rawNpy(header: "['descr', '<f4']", data: [0, 0, 0, 0]), "not a dict"),
        (rawNpy(header: "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,)}", data: [0, 0, 0, 0]), "unexpected name 'Maybe'"),
        (rawNpy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", data: []), "integer too large"),
        (rawNpy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4)}", data: []), "too large"),
        (rawNpy(header: String(repeating: "(", count: 10_000), data: []), "nesting too deep"),
        (rawNpy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data: [0, 0, 0, 0]), "needs 8 data bytes but the file holds 4"),
        (rawNpy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0, 0]), "needs 4 data bytes but the file holds 5"),
        (rawNpy(version: 4, header: "{}", data: []), "version 4.0 is not supported"),
        (Array(rawNpy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data: []).prefix(40)), "runs past the end of the file"),
        ([0x93] + Array("NUMPY".utf8) + [1, 0, 5], "ends inside the .npy header length"),
        (Array("PK\u{3}\u{4} not npy".utf8), "not a .npy file"),
        ([], "not a .npy file"),
    ] as [([UInt8], String)])
    func malformedFileIsRejectedWithItsName(bytes: [UInt8], message: String) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("bad.npy")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        for (source, read) in [(path, { try Npy.read(path: path) }), ("<memory>", { try Npy.decode(bytes: bytes) })] {
            let error = #expect(throws: FormatError.self) { _ = try read() }
            let description = error?.description ?? ""
            #expect(description.hasPrefix("\(source): "), "\(description)")
            #expect(description.contains(message), "\(description)")
        }
    }

    @Test func writerRejectsTypesNumpyCannotHold() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("x.npy")
        for tensor in [
            Tensor(dataType: .bfloat16, shape: [1], bytes: [0, 0]), Tensor(dataType: .string, shape: [1], bytes: [65]),
            Tensor(dataType: .float32, shape: [2], bytes: [0, 0, 0, 0]),
        ] {
            let error = #expect(throws: FormatError.self) { try Npy.write(tensor, to: path) }
            #expect(error?.description.hasPrefix("\(path): ") == true)
            #expect(throws: FormatError.self) { try Npy.encode(tensor) }
        }
        #expect(try directory.contents().isEmpty)
    }
}

/// Atomic writes: a failed write leaves the old file and no temporary behind.
@Suite struct NpyAtomicFileTests {
    struct Interrupted: Error {}

    @Test func failedWriteKeepsTheOldFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("a.npy")
        let tensor = Tensor(shape: [2], scalars: [Float(1), 2])
        try Npy.write(tensor, to: path)
        #expect(throws: Interrupted.self) {
            try AtomicFile.write(to: path) { writer in
                try writer.write([1, 2, 3])
                throw Interrupted()
            }
        }
        #expect(try Npy.read(path: path) == tensor)
        #expect(try directory.contents() == ["a.npy"])
    }

    @Test func writerTracksOffsetsAcrossBufferedAndLargeWrites() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("big.bin")
        let large = SampleTensors.bytes(count: 3 << 20, seed: 9)
        try AtomicFile.write(to: path) { writer in
            try writer.write([7])
            try writer.pad(toMultipleOf: 64)
            #expect(writer.offset == 64)
            try writer.write(large)
            #expect(writer.offset == 64 + large.count)
            try writer.write([8, 9])
        }
        let written = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(written == [7] + [UInt8](repeating: 0, count: 63) + large + [8, 9])
    }

    @Test func unwritableDestinationNamesThePath() throws {
        let error = #expect(throws: FormatError.self) {
            try Npy.write(Tensor(scalar: Float(1)), to: "/nonexistent-dir/x.npy")
        }
        #expect(error?.description.hasPrefix("/nonexistent-dir/x.npy: cannot create") == true, "\(String(describing: error))")
    }
}

/// `numpy.save` files read byte-identically here and re-encode to the very same bytes; our
/// files load in numpy with the same dtype, shape and bytes.
@Suite(.enabled(if: PythonTool.shouldRun, "needs Python with numpy: set NX_PYTHON or create .venv (under CI a missing Python fails instead)"))
struct NpyInteropTests {
    @Test func numpyWrittenFilesReadAndReencodeIdentically() throws {
        let directory = try TemporaryDirectory()
        let script = """
            import sys, numpy as np
            out = sys.argv[1]
            rng = np.random.default_rng(11)
            arrays = {
                'f64': rng.standard_normal((2, 3)), 'f32': rng.standard_normal((4, 1, 2)).astype(np.float32),
                'f16': rng.standard_normal((5,)).astype(np.float16), 'i64': rng.integers(-9, 9, (3,), dtype=np.int64),
                'i32': rng.integers(-9, 9, (2, 2), dtype=np.int32), 'i16': rng.integers(-9, 9, (3,), dtype=np.int16),
                'i8': rng.integers(-9, 9, (6,), dtype=np.int8), 'u8': rng.integers(0, 255, (2, 5), dtype=np.uint8),
                'u16': rng.integers(0, 999, (3,), dtype=np.uint16), 'u32': rng.integers(0, 999, (1,), dtype=np.uint32),
                'u64': rng.integers(0, 999, (2,), dtype=np.uint64), 'bool': rng.integers(0, 2, (7,)).astype(bool),
                'scalar': np.array(3.5, dtype=np.float32), 'empty': np.zeros((0, 4), dtype=np.float32),
                'big_first_dim': np.arange(1000, dtype=np.int32).reshape(1000, 1),
            }
            for name, a in arrays.items():
                np.save(out + '/' + name + '.npy', a)
                with open(out + '/' + name + '.bin', 'wb') as f:
                    f.write(a.tobytes())
            print(' '.join(sorted(arrays)))
            """
        let names = try PythonTool.run(script: script, arguments: [directory.path]).split(whereSeparator: \.isWhitespace)
        #expect(names.count == 15)
        for name in names {
            let path = directory.file("\(name).npy")
            let tensor = try Npy.read(path: path)
            let raw = try Data(contentsOf: URL(fileURLWithPath: directory.file("\(name).bin")))
            #expect(tensor.storage.bytes.elementsEqual(raw), "\(name)")
            #expect(tensor.storage.isMapped)
            #expect(try Npy.encode(tensor) == Array(Data(contentsOf: URL(fileURLWithPath: path))), "\(name): not byte-identical to numpy.save")
        }
    }

    @Test func swiftWrittenFilesLoadInNumpy() throws {
        let directory = try TemporaryDirectory()
        var tensors = SampleTensors.everyType(except: [.bfloat16])
        tensors.append(("scalar", Tensor(scalar: Int32(-3))))
        tensors.append(("empty", Tensor(dataType: .float64, shape: [2, 0], bytes: [])))
        for (name, tensor) in tensors { try Npy.write(tensor, to: directory.file("\(name).npy")) }
        let script = """
            import hashlib, json, sys, numpy as np
            out = {}
            for path in sys.argv[1:]:
                a = np.load(path)
                out[path] = {'dtype': a.dtype.str, 'shape': list(a.shape), 'sha256': hashlib.sha256(a.tobytes()).hexdigest()}
            print(json.dumps(out))
            """
        let paths = tensors.map { directory.file("\($0.name).npy") }
        let described = try #require(try PythonTool.json(try PythonTool.run(script: script, arguments: paths)) as? [String: [String: Any]])
        for ((name, tensor), path) in zip(tensors, paths) {
            let entry = try #require(described[path], "\(name)")
            #expect(entry["dtype"] as? String == Npy.descr(for: tensor.dataType), "\(name)")
            #expect(entry["shape"] as? [Int] == tensor.shape, "\(name)")
            #expect(entry["sha256"] as? String == tensor.withUnsafeBytes(SHA256.hex), "\(name)")
        }
    }
}
