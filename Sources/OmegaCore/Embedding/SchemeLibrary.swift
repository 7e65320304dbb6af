/// A library a host opens in an interpreter: native procedures written in
/// Swift, the Scheme code built on them, and whatever state it keeps per
/// interpreter. The engine knows no library beyond its own R7RS ones; the
/// host chooses what else to open (`Interpreter.Options.libraries`), the way
/// a Lua host chooses the libraries it opens.
///
/// ```swift
/// var options = Interpreter.Options()
/// options.libraries = [ModelLibrary()]      // effects, meter, budgets
/// let omega = try Interpreter(options: options)
/// ```
public protocol SchemeLibrary {
    /// The first part of the R7RS library names it provides: `"omega"` makes
    /// `(import (omega budget))` a built-in import.
    var name: String { get }

    /// Defines the library's native procedures (`Interpreter.defineProcedure`)
    /// and attaches its per-interpreter state (`Interpreter.attach`). Called
    /// once, while the interpreter is made, before any Scheme code loads.
    func open(in interp: Interpreter) throws

    /// Scheme source evaluated after the engine's own standard library, in
    /// order, as `(file name, text)`; its definitions are built-ins.
    var schemeSources: [(name: String, text: String)] { get }
}

extension SchemeLibrary {
    public var schemeSources: [(name: String, text: String)] { [] }
}

/// State a library keeps with one interpreter (a meter, a backend, caches),
/// told when each top-level evaluation ends. Interpreters share nothing, so
/// each gets its own attachment.
public protocol InterpreterAttachment: AnyObject {
    /// A top-level evaluation (`evaluate`, `call`) failed with an error no
    /// handler caught; work it left in flight can be cancelled.
    func evaluationFailed(_ interp: Interpreter)
    /// A top-level evaluation ended, however it ended.
    func evaluationEnded(_ interp: Interpreter)
}

extension InterpreterAttachment {
    public func evaluationFailed(_ interp: Interpreter) {}
    public func evaluationEnded(_ interp: Interpreter) {}
}

extension Interpreter {
    /// Keeps a library's state with this interpreter (one per type: a second
    /// of the same type replaces the first).
    public func attach(_ attachment: any InterpreterAttachment) {
        attachments.removeAll { type(of: $0) == type(of: attachment) }
        attachments.append(attachment)
    }

    /// The attachment of this type, if a library attached one.
    public func attachment<T: InterpreterAttachment>(_ type: T.Type) -> T? {
        for a in attachments { if let t = a as? T { return t } }
        return nil
    }

    /// Whether a library named `name` was opened (`SchemeLibrary.name`).
    public func hasOpenedLibrary(_ name: String) -> Bool { openedLibraryNames.contains(name) }
}
