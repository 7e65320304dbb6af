import Foundation

/// Where an output port's text goes.
public enum OutputTarget {
    case standardOutput
    case standardError
    /// Text is accumulated and read back with `get-output-string`.
    case string
    /// Each flushed chunk of text is passed to the closure.
    case callback((String) -> Void)
}

/// An output port with a buffer (text or bytes): `Interpreter.flushOutput`
/// writes it out, and closing flushes it first.
protocol FlushablePort: AnyObject {
    var isOpen: Bool { get set }
    /// Runs when the port is closed (file ports close their file).
    var onClose: (() -> Void)? { get set }
    func flush()
}

extension Interpreter {
    /// A file output port on `path` (created, or emptied): closing it closes
    /// the file, and what it holds is flushed when an evaluation ends.
    func openFileForWriting<P: HeapObject & FlushablePort>(_ path: String, _ makePort: (FileHandle) -> P) throws -> Value {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw SchemeError(.file, "cannot open \(path) for writing")
        }
        let port = makePort(handle)
        port.onClose = { try? handle.close() }
        trackFilePort(port)
        return Value(object: heap.register(port))
    }
}

extension FlushablePort {
    func flushIfOpen() { if isOpen { flush() } }

    func close() {
        guard isOpen else { return }
        flush()
        isOpen = false
        onClose?()
    }
}

/// A file port the interpreter flushes without keeping it alive.
struct WeakPort {
    weak var port: (any FlushablePort)?
}

/// A textual output port. Output to files and the terminal is buffered and
/// written when the buffer fills, on `flush-output-port`, and when an
/// evaluation ends.
final class OutputPort: HeapObject, CustomPrintable, FlushablePort {
    let target: OutputTarget
    private var buffer = ""
    /// Flush after every newline (for terminals).
    let lineBuffered: Bool
    var isOpen = true

    init(target: OutputTarget) {
        self.target = target
        switch target {
        case .standardOutput: lineBuffered = isatty(1) != 0
        case .standardError: lineBuffered = true
        default: lineBuffered = false
        }
        super.init(kind: .port)
    }

    /// Whether the last character written was a newline (or nothing was).
    private(set) var atLineStart = true

    /// For a string port: told how much the text grew (the heap counts it).
    var onGrow: ((Int) -> Void)?

    override var approximateSize: Int { 64 + buffer.utf8.count }

    func write(_ s: String) {
        if s.isEmpty { return }
        buffer += s
        onGrow?(s.utf8.count)
        atLineStart = s.utf8.last == UInt8(ascii: "\n")
        switch target {
        case .string: return
        default:
            if buffer.utf8.count >= 8192 || (lineBuffered && s.contains("\n")) { flush() }
        }
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        switch target {
        case .string: return
        case .standardOutput: FileHandle.standardOutput.write(buffer.data(using: .utf8) ?? Data())
        case .standardError: FileHandle.standardError.write(buffer.data(using: .utf8) ?? Data())
        case .callback(let f): f(buffer)
        }
        buffer = ""
    }

    var onClose: (() -> Void)?

    /// The accumulated text of a string port.
    var contents: String { buffer }

    func printedForm(_ interp: Interpreter) -> String {
        switch target {
        case .standardOutput: return "#<output-port stdout>"
        case .standardError: return "#<output-port stderr>"
        case .string: return "#<output-port string>"
        case .callback: return "#<output-port>"
        }
    }
}
