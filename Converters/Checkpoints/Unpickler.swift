/// Runs the pickle program in a torch checkpoint's `data.pkl` far enough to get its state
/// dict back: Python's plain data (dicts, lists, tuples, strings, numbers), OrderedDicts,
/// tensors described by `torch._utils._rebuild_tensor_v2` over persistent-id storages, and
/// nothing else. It never calls anything: the only callables are the whitelisted globals of
/// `PickleGlobal`, each interpreted here. Every input ends in a value or a `Failure` naming
/// the byte offset and opcode; the pass is linear in the input, so none can hang it.
struct Unpickler {
    struct Failure: Error, Equatable {
        let offset: Int
        let message: String
    }

    /// A Python dict: insertion-ordered entries, with indexes so re-assigning a key replaces it
    /// in constant time (keys of other kinds are only appended; state dicts never use them).
    struct Dictionary {
        private(set) var entries: [(key: PickleValue, value: PickleValue)] = []
        private var stringKeys: [String: Int] = [:]
        private var intKeys: [Int: Int] = [:]

        mutating func set(_ key: PickleValue, _ value: PickleValue) {
            switch key {
            case .string(let text):
                if let index = stringKeys[text] { entries[index].value = value; return }
                stringKeys[text] = entries.count
            case .int(let number):
                if let index = intKeys[number] { entries[index].value = value; return }
                intKeys[number] = entries.count
            default: break
            }
            entries.append((key, value))
        }

        subscript(key: String) -> PickleValue? { stringKeys[key].map { entries[$0].value } }
    }

    /// What a pickle program built: its result and the lists and dicts values refer to.
    struct Result {
        let root: PickleValue
        let lists: [[PickleValue]]
        let dicts: [Dictionary]
    }

    private let bytes: UnsafeRawBufferPointer
    private var position = 0
    private var opcodeOffset = 0
    private var stack: [PickleValue] = []
    /// Stack heights at each open MARK; values below the innermost one cannot be popped.
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    private var lists: [[PickleValue]] = []
    private var dicts: [Dictionary] = []

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    static func load(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> Result {
        var machine = Unpickler(bytes: bytes)
        let root = try machine.run()
        return Result(root: root, lists: machine.lists, dicts: machine.dicts)
    }

    static func load(_ bytes: [UInt8]) throws -> Result {
        try bytes.withUnsafeBytes { try load($0) }
    }

    // MARK: The machine

    private mutating func run() throws(Failure) -> PickleValue {
        while true {
            guard position < bytes.count else { throw fail("pickle ends without a STOP opcode: truncated") }
            opcodeOffset = position
            let opcode = bytes[position]
            position += 1
            switch opcode {
            case 0x80:  // PROTO
                let version = try byte()
                guard (2...5).contains(version) else { throw fail("pickle protocol \(version) is not supported (2 to 5 are)") }
            case 0x95: _ = try take(8)  // FRAME: protocol 4 framing, transparent to us
            case 0x2E: return try pop()  // STOP

            case 0x28: marks.append(stack.count)  // MARK
            case 0x30: _ = try pop()  // POP
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x32: push(try top())  // DUP

            case 0x4E: push(.none)  // NONE
            case 0x88: push(.bool(true))  // NEWTRUE
            case 0x89: push(.bool(false))  // NEWFALSE
            case 0x4B: push(.int(Int(try byte())))  // BININT1
            case 0x4D: push(.int(Int(try uint(2))))  // BININT2
            case 0x4A: push(.int(Int(Int32(bitPattern: UInt32(try uint(4))))))  // BININT
            case 0x8A: push(try long(count: Int(try byte())))  // LONG1
            case 0x47: push(.float(Double(bitPattern: try bigEndianUInt64())))  // BINFLOAT

            case 0x8C: push(.string(try text(count: Int(try byte()))))  // SHORT_BINUNICODE
            case 0x58: push(.string(try text(count: try length(4))))  // BINUNICODE
            case 0x8D: push(.string(try text(count: try length(8))))  // BINUNICODE8
            case 0x43: push(.bytes(Array(try take(Int(try byte())))))  // SHORT_BINBYTES
            case 0x42: push(.bytes(Array(try take(try length(4)))))  // BINBYTES
            case 0x8E: push(.bytes(Array(try take(try length(8)))))  // BINBYTES8

            case 0x29: push(.tuple([]))  // EMPTY_TUPLE
            case 0x85: push(.tuple(try pop(1)))  // TUPLE1
            case 0x86: push(.tuple(try pop(2)))  // TUPLE2
            case 0x87: push(.tuple(try pop(3)))  // TUPLE3
            case 0x74: push(.tuple(try popMark()))  // TUPLE
            case 0x5D: push(newList([]))  // EMPTY_LIST
            case 0x6C: push(newList(try popMark()))  // LIST
            case 0x7D: push(newDictionary())  // EMPTY_DICT
            case 0x64:  // DICT
                let items = try popMark()
                let dict = newDictionary()
                try setItems(items, into: dict)
                push(dict)

            case 0x71: memo[Int(try byte())] = try top()  // BINPUT
            case 0x72: memo[Int(try uint(4))] = try top()  // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()  // MEMOIZE
            case 0x68: push(try recall(Int(try byte())))  // BINGET
            case 0x6A: push(try recall(Int(try uint(4))))  // LONG_BINGET

            case 0x61:  // APPEND
                let item = try pop()
                try append([item], to: try top())
            case 0x65:  // APPENDS
                let items = try popMark()
                try append(items, to: try top())
            case 0x73:  // SETITEM
                let value = try pop(), key = try pop()
                try setItems([key, value], into: try top())
            case 0x75:  // SETITEMS
                let items = try popMark()
                try setItems(items, into: try top())

            case 0x63:  // GLOBAL
                let module = try line(), name = try line()
                push(.global(try resolve(module: module, name: name)))
            case 0x93:  // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard case .string(let moduleName) = module, case .string(let globalName) = name else {
                    throw fail("STACK_GLOBAL needs two strings, got \(module.typeName) and \(name.typeName)")
                }
                push(.global(try resolve(module: moduleName, name: globalName)))
            case 0x52:  // REDUCE
                let arguments = try pop(), callable = try pop()
                push(try call(callable, arguments, opcode: "REDUCE"))
            case 0x81:  // NEWOBJ
                let arguments = try pop(), type = try pop()
                guard case .global(.orderedDict) = type else {
                    throw fail("NEWOBJ of \(type.typeName) is not supported (only collections.OrderedDict)")
                }
                push(try call(type, arguments, opcode: "NEWOBJ"))
            case 0x62:  // BUILD
                let state = try pop()
                switch try top() {
                // An OrderedDict's state is its attributes (a state dict's `_metadata`), a
                // tensor's its Python attributes: neither affects the weights.
                case .dict, .tensor: _ = state
                case let target: throw fail("BUILD on a \(target.typeName) is not supported")
                }
            case 0x51: push(try persistentLoad(try pop()))  // BINPERSID

            default:
                if let name = PickleOpcode.name(opcode) {
                    throw fail("pickle opcode \(hex(opcode)) (\(name)) is not supported; torch state dicts do not use it")
                }
                throw fail("unknown pickle opcode \(hex(opcode)): not a pickle, or corrupt")
            }
        }
    }

    // MARK: Objects

    private mutating func newList(_ items: [PickleValue]) -> PickleValue {
        lists.append(items)
        return .list(lists.count - 1)
    }

    private mutating func newDictionary() -> PickleValue {
        dicts.append(Dictionary())
        return .dict(dicts.count - 1)
    }

    private mutating func append(_ items: [PickleValue], to target: PickleValue) throws(Failure) {
        guard case .list(let index) = target else { throw fail("cannot append to a \(target.typeName)") }
        lists[index] += items
    }

    private mutating func setItems(_ items: [PickleValue], into target: PickleValue) throws(Failure) {
        guard case .dict(let index) = target else { throw fail("cannot set items of a \(target.typeName)") }
        guard items.count.isMultiple(of: 2) else { throw fail("odd number of values (\(items.count)) for key-value pairs") }
        for pair in stride(from: 0, to: items.count, by: 2) {
            dicts[index].set(items[pair], items[pair + 1])
        }
    }

    private func resolve(module: String, name: String) throws(Failure) -> PickleGlobal {
        guard let global = PickleGlobal(module: module, name: name) else {
            throw fail("global '\(module).\(name)' is not allowed: a checkpoint may only name collections.OrderedDict, torch._utils._rebuild_tensor(_v2), torch._utils._rebuild_parameter and torch storage or dtype types")
        }
        return global
    }

    /// REDUCE and NEWOBJ: the whitelisted callables, interpreted.
    private mutating func call(_ callable: PickleValue, _ arguments: PickleValue, opcode: String) throws(Failure) -> PickleValue {
        guard case .global(let function) = callable else { throw fail("\(opcode) calls a \(callable.typeName), not a known function") }
        guard case .tuple(let args) = arguments else {
            throw fail("\(opcode) of \(function.qualifiedName) has \(arguments.typeName) arguments, expected a tuple")
        }
        switch function {
        case .orderedDict:
            let dict = newDictionary()
            switch args.first {
            case nil: break
            case .list(let index)? where args.count == 1:
                for item in lists[index] {
                    guard case .tuple(let pair) = item, pair.count == 2 else { throw fail("OrderedDict items must be (key, value) pairs") }
                    try setItems(pair, into: dict)
                }
            default: throw fail("collections.OrderedDict called with \(args.count) arguments of an unsupported kind")
            }
            return dict
        case .rebuildTensorV2 where args.count == 6 || args.count == 7, .rebuildTensor where args.count == 4:
            return .tensor(try tensorRecord(args))
        case .rebuildParameter where args.count == 3, .rebuildParameterWithState where args.count == 4:
            guard case .tensor = args[0] else { throw fail("\(function.qualifiedName) of a \(args[0].typeName), expected a tensor") }
            return args[0]
        default:
            throw fail("\(opcode) of \(function.qualifiedName) with \(args.count) arguments is not supported")
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, ...)`.
    private func tensorRecord(_ args: [PickleValue]) throws(Failure) -> TorchTensorRecord {
        guard case .storage(let storage) = args[0] else { throw fail("tensor rebuilt from a \(args[0].typeName), expected a storage") }
        guard case .int(let offset) = args[1] else { throw fail("tensor storage offset is a \(args[1].typeName), expected an int") }
        func integers(_ value: PickleValue, _ what: String) throws(Failure) -> [Int] {
            guard case .tuple(let items) = value else { throw fail("tensor \(what) is a \(value.typeName), expected a tuple") }
            var result: [Int] = []
            for item in items {
                guard case .int(let number) = item else { throw fail("tensor \(what) holds a \(item.typeName), expected ints") }
                result.append(number)
            }
            return result
        }
        let shape = try integers(args[2], "size"), strides = try integers(args[3], "stride")
        guard shape.count == strides.count else {
            throw fail("tensor size \(shape) and stride \(strides) have different lengths")
        }
        return TorchTensorRecord(storage: storage, offset: offset, shape: shape, strides: strides)
    }

    /// torch's persistent ids: ("storage", storage type, key, location, element count).
    private func persistentLoad(_ id: PickleValue) throws(Failure) -> PickleValue {
        guard case .tuple(let fields) = id, fields.count == 5, case .string("storage") = fields[0] else {
            throw fail("persistent id is not a ('storage', type, key, location, count) tuple")
        }
        guard case .global(.storageType(_, let dataType)) = fields[1] else {
            throw fail("persistent id names a \(fields[1].typeName), expected a torch storage type")
        }
        guard case .string(let key) = fields[2], case .string = fields[3], case .int(let count) = fields[4], count >= 0 else {
            throw fail("persistent id for a storage has a malformed key, location or element count")
        }
        return .storage(TorchStorageReference(key: key, dataType: dataType, count: count))
    }

    // MARK: Stack

    private mutating func push(_ value: PickleValue) { stack.append(value) }

    private mutating func pop() throws(Failure) -> PickleValue {
        guard stack.count > (marks.last ?? 0) else { throw fail("stack underflow") }
        return stack.removeLast()
    }

    private mutating func pop(_ count: Int) throws(Failure) -> [PickleValue] {
        guard stack.count - count >= (marks.last ?? 0) else { throw fail("stack underflow") }
        defer { stack.removeLast(count) }
        return Array(stack.suffix(count))
    }

    private func top() throws(Failure) -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.last else { throw fail("stack underflow") }
        return value
    }

    private mutating func popMark() throws(Failure) -> [PickleValue] {
        guard let mark = marks.popLast() else { throw fail("no MARK to close") }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    private func recall(_ index: Int) throws(Failure) -> PickleValue {
        guard let value = memo[index] else { throw fail("memo slot \(index) is read before it is written") }
        return value
    }

    // MARK: Operands

    private func fail(_ message: String) -> Failure { Failure(offset: opcodeOffset, message: message) }

    private mutating func take(_ count: Int) throws(Failure) -> UnsafeRawBufferPointer.SubSequence {
        guard count >= 0, count <= bytes.count - position else {
            throw fail("operand of \(count) bytes runs past the end of the pickle: truncated")
        }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    private mutating func byte() throws(Failure) -> UInt8 { try take(1).first! }

    /// A little-endian unsigned operand of `size` bytes.
    private mutating func uint(_ size: Int) throws(Failure) -> UInt64 {
        try take(size).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    private mutating func length(_ size: Int) throws(Failure) -> Int {
        let value = try uint(size)
        guard value <= UInt64(bytes.count) else { throw fail("length \(value) runs past the end of the pickle") }
        return Int(value)
    }

    private mutating func bigEndianUInt64() throws(Failure) -> UInt64 {
        try take(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// LONG1's little-endian two's-complement integer.
    private mutating func long(count: Int) throws(Failure) -> PickleValue {
        let digits = try take(count)
        guard count <= 8 else { return .largeInt }
        guard let last = digits.last else { return .int(0) }
        var value = digits.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if last & 0x80 != 0, count < 8 { value |= ~UInt64(0) << UInt64(8 * count) }  // sign-extend
        return .int(Int(Int64(bitPattern: value)))
    }

    private mutating func text(count: Int) throws(Failure) -> String {
        let start = position
        guard let string = String(validating: try take(count), as: UTF8.self) else {
            throw fail("string at byte \(start) is not valid UTF-8")
        }
        return string
    }

    /// A newline-terminated ASCII operand (GLOBAL's module and name).
    private mutating func line() throws(Failure) -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw fail("GLOBAL operand has no newline: truncated") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return "0x" + (digits.count == 1 ? "0" : "") + digits
    }
}
