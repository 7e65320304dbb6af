import Foundation

/// The Scheme libraries an interpreter loads at start-up (the embedded
/// stdlib and the opened libraries' Scheme sources), compiled once and kept
/// in a file, so that later starts load bytecode instead of reading,
/// expanding and compiling about 1,500 lines of Scheme (8.6 of the 22 ms
/// `omega -e 1` took).
///
/// The image is a sequence of the libraries' top-level forms in order:
/// - a `define` (or `define-record-type`) is kept compiled: the template
///   of the top-level thunk the compiler made for it, with its constants;
/// - any other form (`define-syntax` above all, whose effect is on the
///   expander, not on the heap) is kept as a place in the embedded source,
///   read and evaluated again at load.
///
/// Loading runs the compiled thunks and re-evaluates the rest in the same
/// order, which leaves the system environment as loading the sources does.
/// An image is used only when its key — the format, the engine's version,
/// the executable that made it and a hash of every library source —
/// matches; a missing, stale or damaged image is ignored (and rewritten),
/// never half-loaded: the whole file is decoded before anything runs.
enum LibraryImage {
    /// Bump when the encoding or the instruction set changes.
    static let formatVersion: UInt64 = 1

    /// A library source file: its name (`stdlib/NAME`) and text.
    typealias Source = (name: String, text: String)

    /// What an image is valid for: these sources, compiled by this very
    /// executable (its size and modification time: a rebuilt compiler or VM
    /// with the same library sources must not run bytecode made by another).
    static func key(_ sources: [Source]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        func mix(_ s: String) {
            for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            h = (h ^ 0xFF) &* 0x100_0000_01b3
        }
        mix("omega-library-image-\(formatVersion)-\(OmegaVersion.string)-\(executableStamp)")
        for s in sources { mix(s.name); mix(s.text) }
        return h
    }

    /// The running executable's size and modification time ("" where
    /// /proc/self/exe cannot be read).
    static let executableStamp: String = {
        var st = stat()
        guard stat("/proc/self/exe", &st) == 0 else { return "" }
        return "\(st.st_size)-\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
    }()

    /// FNV-1a of the image's bytes: a damaged image is never decoded into a
    /// different program.
    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// Whether a top-level form is kept compiled (its effect is only the
    /// values it defines) or as source.
    static func isCompiled(_ form: Value) -> Bool {
        guard form.isPair, let head = form.car.as(Symbol.self) else { return false }
        return head.name == "define" || head.name == "define-record-type"
    }

    /// One top-level form, as the image keeps it.
    enum Entry {
        /// A compiled top-level thunk.
        case compiled(Template)
        /// Source `file` (index into the sources) from scalar `position`, at `line`:`column`.
        case source(file: Int, position: Int, line: Int, column: Int)
    }

    /// The image could not be used: why (for tests; users see nothing but a slower start).
    struct Unusable: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }
}

// MARK: Writing

extension LibraryImage {
    /// Encodes entries as the image file's bytes; throws `Unusable` when a
    /// constant is of a kind the image does not keep (the caller then
    /// writes no image).
    struct Writer {
        private(set) var bytes: [UInt8] = []
        private let interp: Interpreter
        private var templates: [ObjectIdentifier: Int] = [:]
        private var uninterned: [ObjectIdentifier: Int] = [:]
        private var fileNames: [String: Int] = [:]

        init(interp: Interpreter, key: UInt64) {
            self.interp = interp
            bytes.append(contentsOf: Array("OMEGAIMG".utf8))
            u64(key)
        }

        mutating func u64(_ v: UInt64) {  // LEB128
            var v = v
            repeat {
                let b = UInt8(v & 0x7F); v >>= 7
                bytes.append(v == 0 ? b : b | 0x80)
            } while v != 0
        }
        mutating func int(_ v: Int) { u64(UInt64(bitPattern: Int64(v))) }
        mutating func string(_ s: String) { let u = Array(s.utf8); int(u.count); bytes.append(contentsOf: u) }

        mutating func entry(_ e: Entry) throws {
            switch e {
            case .compiled(let t): bytes.append(0); try template(t)
            case .source(let file, let position, let line, let column):
                bytes.append(1); int(file); int(position); int(line); int(column)
            }
        }

        /// The end marker, then a checksum of everything before it.
        mutating func finish() {
            bytes.append(2)
            let sum = LibraryImage.checksum(bytes[...])
            for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: sum >> (8 * UInt64(k)))) }
        }

        private mutating func location(_ loc: SourceLocation) {
            guard loc.isKnown else { int(0); return }
            let name = interp.sourceFiles.name(of: loc)
            if let i = fileNames[name] { int(i) } else {
                fileNames[name] = fileNames.count + 1
                int(-1); string(name)
            }
            int(loc.line); int(loc.column)
        }

        private mutating func template(_ t: Template) throws {
            let id = ObjectIdentifier(t)
            if let i = templates[id] { int(i); return }
            templates[id] = templates.count
            int(-1)
            int(t.codeCount)
            for k in 0..<t.codeCount { u64(UInt64(t.code[k])) }
            int(t.constantCount)
            for k in 0..<t.constantCount { try value(t.constants[k]) }
            int(t.requiredCount); int(t.hasRest ? 1 : 0); int(t.frameSize); int(t.maxStack)
            string(t.name)
            int(t.locations.count)
            for (offset, loc) in t.locations { int(Int(offset)); location(loc) }
            location(t.location)
        }

        private mutating func symbol(_ s: Symbol) {
            if s.isInterned { bytes.append(2); string(s.name); return }
            bytes.append(3)
            let id = ObjectIdentifier(s)
            if let i = uninterned[id] { int(i) } else {
                uninterned[id] = uninterned.count
                int(-1); string(s.name)
            }
        }

        private mutating func value(_ v: Value) throws {
            if !v.isHeapObject { bytes.append(0); u64(v.raw); return }
            if v.isPair {
                // A list: its elements in a row, then the tail (no recursion on cdrs).
                var items: [Value] = []
                var p = v
                while p.isPair { items.append(p.car); p = p.cdr }
                bytes.append(7); int(items.count)
                for item in items { try value(item) }
                try value(p)
                return
            }
            let obj = v.withObject { $0 }
            switch obj.kind {
            case .string:
                let s = unsafeDowncast(obj, to: SchemeString.self)
                bytes.append(1); int(s.isMutable ? 1 : 0); string(s.string)
            case .symbol: symbol(unsafeDowncast(obj, to: Symbol.self))
            case .flonum: bytes.append(4); u64(unsafeDowncast(obj, to: Flonum.self).value.bitPattern)
            case .bignum: bytes.append(5); string(unsafeDowncast(obj, to: Bignum.self).value.description)
            case .ratnum:
                let r = unsafeDowncast(obj, to: Ratnum.self)
                bytes.append(6); string(r.numerator.description); string(r.denominator.description)
            case .vector:
                let vec = unsafeDowncast(obj, to: SchemeVector.self)
                bytes.append(8); int(vec.isMutable ? 1 : 0); int(vec.items.count)
                for item in vec.items { try value(item) }
            case .bytevector:
                let b = unsafeDowncast(obj, to: Bytevector.self)
                bytes.append(9); int(b.bytes.count); bytes.append(contentsOf: b.bytes)
            case .template: bytes.append(10); try template(unsafeDowncast(obj, to: Template.self))
            case .cell:
                let cell = unsafeDowncast(obj, to: GlobalCell.self)
                guard interp.systemEnvironment.cells[ObjectIdentifier(cell.name)] === cell else {
                    throw Unusable("a global cell of \(cell.name.name) outside the system environment")
                }
                bytes.append(11); symbol(cell.name)
            case .primitive:
                let p = unsafeDowncast(obj, to: Primitive.self)
                guard interp.builtin(p.name).raw == v.raw else { throw Unusable("the procedure \(p.name) is not the built-in of that name") }
                bytes.append(12); string(p.name)
            case .closure:
                // The compiler makes a lambda without free variables once, as a constant.
                let c = unsafeDowncast(obj, to: Closure.self)
                guard c.freeCount == 0 else { throw Unusable("a closure with free variables") }
                bytes.append(13); try template(c.template)
            default:
                throw Unusable("a constant of kind \(obj.kind)")
            }
        }
    }
}

// MARK: Reading

extension LibraryImage {
    /// Decodes an image file made by `Writer` (nil unless its key is `key`),
    /// making its objects in `interp`'s heap. Nothing runs.
    struct Decoder {
        private let bytes: [UInt8]
        private var at = 0
        private let interp: Interpreter
        private var templates: [Template] = []
        private var uninterned: [Symbol] = []
        private var fileIDs: [Int] = [0]

        init?(bytes: [UInt8], key: UInt64, interp: Interpreter) throws {
            guard bytes.count > 16, Array(bytes[0..<8]) == Array("OMEGAIMG".utf8) else { throw Unusable("not an image") }
            let body = bytes.count - 8
            var stored: UInt64 = 0
            for k in 0..<8 { stored |= UInt64(bytes[body + k]) << (8 * UInt64(k)) }
            guard stored == LibraryImage.checksum(bytes[..<body]) else { throw Unusable("damaged") }
            self.bytes = Array(bytes[..<body])
            self.interp = interp
            at = 8
            guard try u64() == key else { return nil }
        }

        private mutating func byte() throws -> UInt8 {
            guard at < bytes.count else { throw Unusable("truncated") }
            defer { at += 1 }
            return bytes[at]
        }
        private mutating func u64() throws -> UInt64 {
            var v: UInt64 = 0, shift: UInt64 = 0
            while true {
                let b = try byte()
                guard shift < 64 else { throw Unusable("bad number") }
                v |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return v }
                shift += 7
            }
        }
        private mutating func int() throws -> Int { Int(Int64(bitPattern: try u64())) }
        private mutating func count() throws -> Int {
            let n = try int()
            guard n >= 0, n <= bytes.count - at + 1 << 20 else { throw Unusable("bad count") }
            return n
        }
        private mutating func string() throws -> String {
            let n = try count()
            guard n <= bytes.count - at else { throw Unusable("truncated") }
            defer { at += n }
            return String(decoding: bytes[at..<at + n], as: UTF8.self)
        }

        /// Every entry, in order.
        mutating func entries() throws -> [Entry] {
            var out: [Entry] = []
            while true {
                switch try byte() {
                case 0: out.append(.compiled(try template()))
                case 1: out.append(.source(file: try int(), position: try int(), line: try int(), column: try int()))
                case 2: return out
                default: throw Unusable("bad entry")
                }
            }
        }

        private mutating func location() throws -> SourceLocation {
            var f = try int()
            if f == 0 { return .none }
            if f == -1 {
                fileIDs.append(interp.sourceFiles.id(for: try string()))
                f = fileIDs.count - 1
            }
            guard f > 0, f < fileIDs.count else { throw Unusable("bad file") }
            return SourceLocation(file: fileIDs[f], line: try int(), column: try int())
        }

        private mutating func template() throws -> Template {
            let ref = try int()
            if ref >= 0 {
                guard ref < templates.count else { throw Unusable("bad template reference") }
                return templates[ref]
            }
            var code: [UInt32] = []
            for _ in 0..<(try count()) {
                guard let w = UInt32(exactly: try u64()) else { throw Unusable("bad instruction") }
                code.append(w)
            }
            var constants: [Value] = []
            for _ in 0..<(try count()) { constants.append(try value()) }
            let required = try count(), hasRest = try int() == 1, frameSize = try count(), maxStack = try count()
            let name = try string()
            var locations: [(offset: Int32, location: SourceLocation)] = []
            for _ in 0..<(try count()) {
                guard let offset = Int32(exactly: try int()) else { throw Unusable("bad offset") }
                locations.append((offset, try location()))
            }
            let t = Template(code: code, constants: constants, requiredCount: required, hasRest: hasRest,
                             frameSize: frameSize, maxStack: maxStack, name: name,
                             locations: locations, location: try location())
            templates.append(interp.heap.register(t))
            return t
        }

        private mutating func symbol(tag: UInt8) throws -> Symbol {
            if tag == 2 { return interp.symbols.intern(try string()) }
            let ref = try int()
            if ref >= 0 {
                guard ref < uninterned.count else { throw Unusable("bad symbol reference") }
                return uninterned[ref]
            }
            let s = interp.symbols.uninterned(try string())
            uninterned.append(s)
            return s
        }

        private mutating func value() throws -> Value {
            let tag = try byte()
            switch tag {
            case 0:
                let v = Value(raw: try u64())
                guard !v.isHeapObject else { throw Unusable("bad immediate") }
                return v
            case 1:
                let mutable = try int() == 1
                return Value(object: interp.heap.register(SchemeString(try string(), mutable: mutable)))
            case 2, 3: return Value(object: try symbol(tag: tag))
            case 4: return interp.heap.flonum(Double(bitPattern: try u64()))
            case 5:
                guard let n = LargeInt(try string()) else { throw Unusable("bad integer") }
                return interp.heap.number(Num.integer(n))
            case 6:
                guard let n = LargeInt(try string()), let d = LargeInt(try string()),
                      let r = Num.rational(n, d) else { throw Unusable("bad ratio") }
                return interp.heap.number(r)
            case 7:
                let n = try count()
                var items: [Value] = []
                for _ in 0..<n { items.append(try value()) }
                var list = try value()
                for item in items.reversed() { list = interp.cons(item, list) }
                return list
            case 8:
                let mutable = try int() == 1
                var items: [Value] = []
                for _ in 0..<(try count()) { items.append(try value()) }
                return Value(object: interp.heap.register(SchemeVector(items, mutable: mutable)))
            case 9:
                let n = try count()
                guard n <= bytes.count - at else { throw Unusable("truncated") }
                defer { at += n }
                return Value(object: interp.heap.register(Bytevector(Array(bytes[at..<at + n]))))
            case 10: return Value(object: try template())
            case 11:
                let t = try byte()
                guard t == 2 || t == 3 else { throw Unusable("bad cell") }
                return Value(object: interp.systemEnvironment.cell(for: try symbol(tag: t)))
            case 12:
                let name = try string()
                let p = interp.builtin(name)
                guard p.isObject(of: .primitive) else { throw Unusable("no built-in \(name)") }
                return p
            case 13: return Value(object: interp.heap.register(Closure(template: try template(), freeCount: 0)))
            default: throw Unusable("bad value tag \(tag)")
            }
        }
    }
}
