import Foundation
import NXIR
import Testing

@testable import NXConverters

/// Hand-assembled pickle programs: the opcodes torch state dicts use give the values Python
/// would, and anything outside the subset fails with the opcode, global or offset named.
@Suite struct UnpicklerTests {
    /// Assembles pickle bytes from opcodes and operands.
    private struct Pickle {
        var bytes: [UInt8] = [0x80, 0x02]  // PROTO 2

        mutating func op(_ code: UInt8, _ operand: [UInt8] = []) { bytes += [code] + operand }
        mutating func string(_ text: String) {
            let utf8 = Array(text.utf8)
            op(0x58, le(UInt32(utf8.count)) + utf8)  // BINUNICODE
        }
        mutating func global(_ module: String, _ name: String) { op(0x63, Array("\(module)\n\(name)\n".utf8)) }
        mutating func stop() { op(0x2E) }
        func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    }

    private func failure(_ bytes: [UInt8]) -> Unpickler.Failure? {
        #expect(throws: Unpickler.Failure.self) { try Unpickler.load(bytes) }
    }

    @Test func plainValuesDecodeAsPythonWould() throws {
        var p = Pickle()
        p.op(0x7D)  // EMPTY_DICT
        p.op(0x71, [0])  // BINPUT 0
        p.op(0x28)  // MARK
        p.string("int1"); p.op(0x4B, [200])
        p.string("int2"); p.op(0x4D, p.le(UInt16(40000)))
        p.string("int4"); p.op(0x4A, p.le(Int32(-5)))
        p.string("long"); p.op(0x8A, [6, 0, 0, 0, 0, 0, 0x01])  // 2**40
        p.string("neg"); p.op(0x8A, [1, 0xFF])  // -1
        p.string("float"); p.op(0x47, withUnsafeBytes(of: (0.1 as Double).bitPattern.bigEndian) { Array($0) })
        p.string("flags"); p.op(0x88); p.op(0x89); p.op(0x4E); p.op(0x87)  // TUPLE3 (True, False, None)
        p.string("list"); p.op(0x5D); p.op(0x4B, [1]); p.op(0x61); p.op(0x28); p.op(0x4B, [2]); p.op(0x4B, [3]); p.op(0x65)
        p.string("short"); p.op(0x8C, [2] + Array("ok".utf8))  // SHORT_BINUNICODE
        p.op(0x75)  // SETITEMS
        p.stop()
        let result = try Unpickler.load(p.bytes)
        guard case .dict(let index) = result.root else { Issue.record("root is \(result.root.typeName)"); return }
        let dict = result.dicts[index]
        #expect(dict.entries.count == 9)
        if case .int(200)? = dict["int1"] {} else { Issue.record("int1: \(String(describing: dict["int1"]))") }
        if case .int(40000)? = dict["int2"] {} else { Issue.record("int2") }
        if case .int(-5)? = dict["int4"] {} else { Issue.record("int4") }
        if case .int(1 << 40)? = dict["long"] {} else { Issue.record("long: \(String(describing: dict["long"]))") }
        if case .int(-1)? = dict["neg"] {} else { Issue.record("neg: \(String(describing: dict["neg"]))") }
        if case .float(0.1)? = dict["float"] {} else { Issue.record("float") }
        if case .tuple(let items)? = dict["flags"], items.count == 3, case .bool(true) = items[0], case .bool(false) = items[1], case .none = items[2] {} else {
            Issue.record("flags: \(String(describing: dict["flags"]))")
        }
        if case .list(let list)? = dict["list"] {
            #expect(result.lists[list].count == 3)
        } else { Issue.record("list") }
        if case .string("ok")? = dict["short"] {} else { Issue.record("short: \(String(describing: dict["short"]))") }
    }

    /// `_rebuild_tensor_v2` of a float16 storage "0" of 6 elements as a [2, 3] tensor, as
    /// torch.save writes it (memo slot 0 must hold collections.OrderedDict).
    private func rebuildTensor(_ p: inout Pickle) {
        p.global("torch._utils", "_rebuild_tensor_v2")
        p.op(0x28)  // MARK (args)
        p.op(0x28); p.string("storage"); p.global("torch", "HalfStorage"); p.string("0"); p.string("cpu"); p.op(0x4B, [6]); p.op(0x74)
        p.op(0x51)  // BINPERSID
        p.op(0x4B, [0])  // offset
        p.op(0x4B, [2]); p.op(0x4B, [3]); p.op(0x86)  // size (2, 3)
        p.op(0x4B, [3]); p.op(0x4B, [1]); p.op(0x86)  // stride (3, 1)
        p.op(0x89)  // requires_grad False
        p.op(0x68, [0]); p.op(0x29); p.op(0x52)  // OrderedDict() hooks
        p.op(0x74)  // TUPLE
        p.op(0x52)  // REDUCE
    }

    /// A zip holding `pickle` and the float16 storage "0" = 1 ... 6.
    private func checkpoint(_ pickle: [UInt8]) -> [UInt8] {
        let values: [Float16] = [1, 2, 3, 4, 5, 6]
        return ZipBuilder.build([
            .init(name: "c/data.pkl", data: pickle),
            .init(name: "c/data/0", data: values.withUnsafeBytes { Array($0) }),
            .init(name: "c/byteorder", data: Array("little".utf8)),
        ])
    }

    @Test func tensorsRebuildFromPersistentStorages() throws {
        // collections.OrderedDict() with one entry rebuilt by _rebuild_tensor_v2, then BUILD
        // with a _metadata attribute dict, as torch.save writes state dicts.
        var p = Pickle()
        p.global("collections", "OrderedDict"); p.op(0x71, [0]); p.op(0x29); p.op(0x52)  // OrderedDict()
        p.string("w")
        rebuildTensor(&p)
        p.op(0x73)  // SETITEM
        p.op(0x7D); p.string("_metadata"); p.op(0x7D); p.op(0x73); p.op(0x62)  // BUILD
        p.stop()
        let result = try Unpickler.load(p.bytes)
        guard case .dict(let index) = result.root, case .tensor(let record)? = result.dicts[index]["w"] else {
            Issue.record("no tensor: \(result.root.typeName)")
            return
        }
        #expect(record == TorchTensorRecord(storage: .init(key: "0", dataType: .float16, count: 6), offset: 0, shape: [2, 3], strides: [3, 1]))

        let state = try TorchCheckpoint.read(bytes: checkpoint(p.bytes), source: "crafted.pth")
        #expect(state["w"]?.shape == [2, 3] && state["w"]?.dataType == .float32)
        #expect(try state["w"]?.scalars(as: Float.self) == [1, 2, 3, 4, 5, 6])
    }

    @Test func stateDictWrapperAndDataParallelPrefix() throws {
        // {"epoch": 2, "state_dict": OrderedDict(module.w=tensor)}, as a DataParallel training
        // script saves it; _rebuild_parameter wraps the tensor as torch does for nn.Parameter.
        var p = Pickle()
        p.global("collections", "OrderedDict"); p.op(0x71, [0]); p.op(0x29); p.op(0x52); p.op(0x30)  // memo OrderedDict, POP
        p.op(0x7D)  // EMPTY_DICT
        p.op(0x28); p.string("epoch"); p.op(0x4B, [2])
        p.string("state_dict"); p.op(0x68, [0]); p.op(0x29); p.op(0x52)
        p.string("module.w")
        p.global("torch._utils", "_rebuild_parameter")
        rebuildTensor(&p)
        p.op(0x88); p.op(0x68, [0]); p.op(0x29); p.op(0x52); p.op(0x87); p.op(0x52)  // (tensor, True, OrderedDict())
        p.op(0x73)  // SETITEM into the OrderedDict
        p.op(0x75)  // SETITEMS
        p.stop()
        let state = try TorchCheckpoint.read(bytes: checkpoint(p.bytes), source: "wrapped.pth")
        #expect(Array(state.keys) == ["w"])
        #expect(try state["w"]?.scalars(as: Float.self) == [1, 2, 3, 4, 5, 6])
    }

    @Test func protocol4FramesMemoizeAndStackGlobal() throws {
        var p = Pickle(bytes: [0x80, 0x04, 0x95] + withUnsafeBytes(of: UInt64(30).littleEndian) { Array($0) })
        p.op(0x8C, [11] + Array("collections".utf8)); p.op(0x94)
        p.op(0x8C, [11] + Array("OrderedDict".utf8)); p.op(0x94)
        p.op(0x93); p.op(0x94)  // STACK_GLOBAL
        p.op(0x29); p.op(0x52); p.op(0x94)  // OrderedDict()
        p.op(0x8C, [1] + Array("a".utf8)); p.op(0x68, [0]); p.op(0x73)  // d["a"] = "collections" (memo 0)
        p.stop()
        let result = try Unpickler.load(p.bytes)
        guard case .dict(let index) = result.root, case .string("collections")? = result.dicts[index]["a"] else {
            Issue.record("unexpected result \(result.root.typeName)")
            return
        }
    }

    @Test func unsupportedOpcodeIsNamed() throws {
        var p = Pickle()
        p.op(0x8F)  // EMPTY_SET (protocol 4)
        p.stop()
        let error = failure(p.bytes)
        #expect(error?.message.contains("pickle opcode 0x8f (EMPTY_SET) is not supported") == true, "\(String(describing: error))")
        #expect(error?.offset == 2)

        // Through a checkpoint file, the message names the file and the entry too.
        let checkpoint = ZipBuilder.checkpoint(pickle: p.bytes)
        let fileError = #expect(throws: CheckpointError.self) { try TorchCheckpoint.read(bytes: checkpoint, source: "crafted.pth") }
        #expect(fileError?.description == "crafted.pth: archive/data.pkl, byte 2: pickle opcode 0x8f (EMPTY_SET) is not supported; torch state dicts do not use it")

        #expect(failure([0x80, 0x02, 0xFF])?.message.contains("unknown pickle opcode 0xff") == true)
        #expect(failure([0x80, 0x02, 0x69])?.message.contains("(INST)") == true)
    }

    @Test func globalsOutsideTheWhitelistAreRefused() throws {
        for (module, name) in [("os", "system"), ("builtins", "eval"), ("torch", "load"), ("argparse", "Namespace")] {
            var p = Pickle()
            p.global(module, name)
            p.stop()
            let error = failure(p.bytes)
            #expect(error?.message.contains("global '\(module).\(name)' is not allowed") == true, "\(String(describing: error))")
        }
        // Whitelisted globals are still not callable with arbitrary arguments.
        var p = Pickle()
        p.global("torch", "FloatStorage"); p.op(0x29); p.op(0x52); p.stop()
        #expect(failure(p.bytes)?.message.contains("REDUCE of torch.FloatStorage") == true)
    }

    @Test func malformedProgramsFailWithTheirOffset() {
        #expect(failure([])?.message.contains("without a STOP") == true)
        #expect(failure([0x80, 0x07, 0x2E])?.message.contains("protocol 7") == true)
        #expect(failure([0x80, 0x02, 0x2E])?.message == "stack underflow")
        #expect(failure([0x80, 0x02, 0x68, 9, 0x2E])?.message.contains("memo slot 9") == true)
        #expect(failure([0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F])?.message.contains("runs past the end") == true)
        #expect(failure([0x80, 0x02, 0x8C, 2, 0xC3, 0x28, 0x2E])?.message.contains("not valid UTF-8") == true)
        #expect(failure([0x80, 0x02, 0x4B, 1, 0x28, 0x30])?.message == "stack underflow")  // POP below a MARK
        #expect(failure([0x80, 0x02, 0x74])?.message.contains("no MARK") == true)
        #expect(failure([0x80, 0x02, 0x4B, 1, 0x4B, 2, 0x4B, 3, 0x73])?.message.contains("set items of a int") == true)
        let offset = failure([0x80, 0x02, 0x4E, 0x4E, 0x85, 0x74])?.offset
        #expect(offset == 5)
    }
}
