import Foundation

/// A textual input port over a string (string ports, files read whole,
/// standard input read on demand).
final class InputPort: HeapObject, CustomPrintable {
    private var text: [Unicode.Scalar]
    private var position = 0
    let name: String
    var isOpen = true
    /// Standard input: more text is read when the buffer runs out.
    private let isStandardInput: Bool
    private var atEOF = false

    init(text: String, name: String) {
        self.text = Array(text.unicodeScalars)
        self.name = name
        isStandardInput = false
        super.init(kind: .port)
    }

    init(standardInputNamed name: String) {
        text = []
        self.name = name
        isStandardInput = true
        super.init(kind: .port)
    }

    override var approximateSize: Int { 64 + text.count * 4 }

    private func fill() -> Bool {
        if position < text.count { return true }
        guard isStandardInput, !atEOF else { return false }
        guard let line = Swift.readLine(strippingNewline: false) else { atEOF = true; return false }
        text = Array(line.unicodeScalars)
        position = 0
        return !text.isEmpty
    }

    func readChar() -> Unicode.Scalar? {
        guard fill() else { return nil }
        defer { position += 1 }
        return text[position]
    }

    func peekChar() -> Unicode.Scalar? {
        guard fill() else { return nil }
        return text[position]
    }

    var charReady: Bool { position < text.count || !isStandardInput || atEOF }

    func readLine() -> String? {
        guard fill() else { return nil }
        // The buffer holds whole lines (standard input is read a line at a
        // time), so the line ends within it.
        var end = position
        while end < text.count && text[end] != "\n" { end += 1 }
        let line = Self.string(text[position..<end])
        position = min(end + 1, text.count)
        return line
    }

    func readString(_ k: Int) -> String? {
        guard fill() else { return nil }
        var s = String.UnicodeScalarView()
        while s.count < k, let c = readChar() { s.append(c) }
        return String(s)
    }

    /// The text of some scalars, encoded in one pass (appending scalar by
    /// scalar to a String re-checks its capacity and flags each time).
    private static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var bytes = 0
        for c in scalars { bytes += UTF8.width(c) }
        return String(unsafeUninitializedCapacity: bytes) { buffer in
            var n = 0
            for c in scalars {
                UTF8.encode(c) { unit in buffer[n] = unit; n += 1 }
            }
            return n
        }
    }

    /// The text and the position `read` goes on from. Standard input is
    /// first read to its end (a datum may span lines).
    func textForReading() -> (scalars: [Unicode.Scalar], position: Int) {
        if isStandardInput && !atEOF {
            var rest = Array(text[min(position, text.count)...])
            while let line = Swift.readLine(strippingNewline: false) { rest.append(contentsOf: line.unicodeScalars) }
            atEOF = true
            text = rest
            position = 0
        }
        return (text, position)
    }

    /// Moves past what `read` consumed.
    func moveForward(to newPosition: Int) { position = newPosition }

    func printedForm(_ interp: Interpreter) -> String { "#<input-port \(name)>" }
}

/// Input ports and reading (R7RS 6.13.1–6.13.2).
enum InputLibrary: NativeLibrary {
    static func register(in i: Interpreter) {
        i.define("input-port?") { _, x in Value(x.as(InputPort.self) != nil || x.as(BinaryInputPort.self) != nil) }
        i.define("port?") { _, x in Value(x.isObject(of: .port)) }
        i.define("textual-port?") { _, x in Value(x.as(InputPort.self) != nil || x.as(OutputPort.self) != nil) }
        i.define("input-port-open?") { _, x in
            if let p = x.as(InputPort.self) { return Value(p.isOpen) }
            if let p = x.as(BinaryInputPort.self) { return Value(p.isOpen) }
            if x.as(OutputPort.self) != nil || x.as(BinaryOutputPort.self) != nil { return .false }
            throw SchemeError.wrongType(x, expected: "a port")
        }
        i.define("output-port-open?") { _, x in
            if let p = x.as(OutputPort.self) { return Value(p.isOpen) }
            if let p = x.as(BinaryOutputPort.self) { return Value(p.isOpen) }
            if x.as(InputPort.self) != nil || x.as(BinaryInputPort.self) != nil { return .false }
            throw SchemeError.wrongType(x, expected: "a port")
        }
        i.define("open-input-string") { i, s in
            Value(object: i.heap.register(InputPort(text: try Check.string(s).string, name: "string")))
        }
        i.define("open-input-file") { i, path in
            try i.require(.fileRead, "open-input-file")
            let p = try Check.string(path).string
            do {
                let text = try String(contentsOfFile: p, encoding: .utf8)
                return Value(object: i.heap.register(InputPort(text: text, name: p)))
            } catch {
                throw SchemeError(.file, "cannot open \(p): \(Interpreter.describeFileError(error))")
            }
        }
        i.define("open-output-file") { i, path in
            try i.require(.fileWrite, "open-output-file")
            return try i.openFileForWriting(try Check.string(path).string) { handle in
                OutputPort(target: .callback({ text in handle.write(text.data(using: .utf8) ?? Data()) }))
            }
        }
        i.define("close-port") { _, x in
            if let p = x.as(InputPort.self) { p.isOpen = false; return .unspecified }
            if let p = x.as(BinaryInputPort.self) { p.isOpen = false; return .unspecified }
            if let p = x.as(BinaryOutputPort.self) { p.close(); return .unspecified }
            if let p = x.as(OutputPort.self) { p.close(); return .unspecified }
            throw SchemeError.wrongType(x, expected: "a port")
        }
        i.define("close-input-port") { _, x in
            if let p = x.as(InputPort.self) { p.isOpen = false; return .unspecified }
            if let p = x.as(BinaryInputPort.self) { p.isOpen = false; return .unspecified }
            throw SchemeError.wrongType(x, expected: "an input port")
        }
        i.define("close-output-port") { _, x in
            if let p = x.as(OutputPort.self) { p.close(); return .unspecified }
            if let p = x.as(BinaryOutputPort.self) { p.close(); return .unspecified }
            throw SchemeError.wrongType(x, expected: "an output port")
        }
        i.define("%current-input") { i in Value(object: i.currentInput) }
        i.define("%set-current-input!") { i, p in
            guard let port = p.as(InputPort.self) else { throw SchemeError.wrongType(p, expected: "an input port") }
            i.currentInput = port
            return .unspecified
        }
        func port(_ args: Arguments, _ k: Int, _ i: Interpreter) throws -> InputPort {
            guard let v = args.optional(k) else { return i.currentInput }
            guard let p = v.as(InputPort.self) else { throw SchemeError.wrongType(v, expected: "an input port", argument: k + 1) }
            guard p.isOpen else { throw SchemeError(.error, "port is closed: ", irritants: [v]) }
            return p
        }
        i.define("read-char", min: 0, max: 1) { i, args in
            guard let c = try port(args, 0, i).readChar() else { return .eof }
            return Value(char: c)
        }
        i.define("peek-char", min: 0, max: 1) { i, args in
            guard let c = try port(args, 0, i).peekChar() else { return .eof }
            return Value(char: c)
        }
        i.define("char-ready?", min: 0, max: 1) { i, args in Value(try port(args, 0, i).charReady) }
        i.define("read-line", min: 0, max: 1) { i, args in
            guard let s = try port(args, 0, i).readLine() else { return .eof }
            return i.makeString(s)
        }
        i.define("read-string", min: 1, max: 2) { i, args in
            let k = try Check.int(args[0], 1)
            guard let s = try port(args, 1, i).readString(k) else { return .eof }
            return i.makeString(s)
        }
        i.define("read", min: 0, max: 1) { i, args in
            let p = try port(args, 0, i)
            let (scalars, start) = p.textForReading()
            var reader = Reader(scalars: scalars, position: start, fileID: i.sourceFiles.id(for: p.name), interp: i)
            let datum = try reader.read()
            p.moveForward(to: reader.position)
            return datum ?? .eof
        }
        i.define("file-exists?") { i, path in
            try i.require(.fileRead, "file-exists?")
            return Value(FileManager.default.fileExists(atPath: try Check.string(path).string))
        }
        i.define("delete-file") { i, path in
            try i.require(.fileWrite, "delete-file")
            let p = try Check.string(path).string
            do { try FileManager.default.removeItem(atPath: p) } catch {
                throw SchemeError(.file, "cannot delete \(p): \(Interpreter.describeFileError(error))")
            }
            return .unspecified
        }
        i.define("eof-object") { _ in .eof }
        i.define("eof-object?") { _, x in Value(x.raw == Value.eof.raw) }
    }
}
