import Foundation

/// A library made by `define-library` (R7RS 5.6): its own top-level
/// environment, and the bindings it exports under their external names.
final class Library {
    enum Binding {
        case variable(GlobalCell)
        case macro(Macro)
    }

    let name: String
    let environment: GlobalEnvironment
    var exports: [(name: Symbol, binding: Binding)] = []

    init(name: String, environment: GlobalEnvironment) {
        self.name = name
        self.environment = environment
    }
}

extension Expander {
    /// The names of the built-in libraries: all of them are the system
    /// environment (the standard library and Omega's own procedures).
    static let standardLibraries: Set<String> = [
        "base", "char", "write", "read", "cxr", "lazy", "case-lambda", "inexact", "complex",
        "time", "file", "process-context", "eval", "repl", "load", "r5rs",
    ]

    /// Whether `parts` names a built-in library: `(scheme …)`, `(srfi 1)`,
    /// `(srfi 69)`, or one of an opened library (`(omega budget)` once
    /// OmegaModels' `ModelLibrary` is open).
    func isBuiltinLibrary(_ parts: [Value]) -> Bool {
        guard let first = parts.first?.as(Symbol.self) else { return false }
        if first.name == "scheme", parts.count == 2, let lib = parts[1].as(Symbol.self) {
            return Expander.standardLibraries.contains(lib.name)
        }
        if first.name == "srfi", parts.count == 2, parts[1].isFixnum { return [1, 69].contains(parts[1].fixnum) }
        return interp.hasOpenedLibrary(first.name) && parts.count >= 2
    }

    /// What an import set makes visible, by the name it is imported as.
    /// `builtin` is true when the set's library is a built-in one.
    func importSet(_ set: Value, _ loc: SourceLocation) throws -> (bindings: [(Symbol, Library.Binding)], builtin: Bool) {
        let spec = stripSyntax(set)
        guard let items = listToArray(spec), let head = items.first?.as(Symbol.self) else {
            throw SchemeError.syntax("import: bad import set \(interp.writeString(spec))", at: loc)
        }
        func symbols(_ vs: ArraySlice<Value>, _ what: String) throws -> [Symbol] {
            try vs.map {
                guard let s = $0.as(Symbol.self) else {
                    throw SchemeError.syntax("import: \(what) expects identifiers, got \(interp.writeString($0))", at: loc)
                }
                return s
            }
        }
        let modifier = items.count >= 2 && listToArray(items[1]) != nil ? head.name : ""
        switch modifier {
        case "only":
            let (inner, builtin) = try importSet(items[1], loc)
            let wanted = try symbols(items[2...], "only")
            for w in wanted where !builtin && !inner.contains(where: { $0.0 === w }) {
                throw SchemeError.syntax("import: \(w.name) is not exported by \(interp.writeString(items[1]))", at: loc)
            }
            return (inner.filter { b in wanted.contains { $0 === b.0 } }, builtin)
        case "except":
            let (inner, builtin) = try importSet(items[1], loc)
            let unwanted = try symbols(items[2...], "except")
            return (inner.filter { b in !unwanted.contains { $0 === b.0 } }, builtin)
        case "prefix":
            guard items.count == 3, let p = items[2].as(Symbol.self) else {
                throw SchemeError.syntax("import: expected (prefix import-set prefix)", at: loc)
            }
            let (inner, builtin) = try importSet(items[1], loc)
            return (inner.map { (interp.symbols.intern(p.name + $0.0.name), $0.1) }, builtin)
        case "rename":
            let (inner, builtin) = try importSet(items[1], loc)
            var renames: [(Symbol, Symbol)] = []
            for pair in items[2...] {
                guard let p = listToArray(pair), p.count == 2, let from = p[0].as(Symbol.self), let to = p[1].as(Symbol.self) else {
                    throw SchemeError.syntax("import: rename expects (old new) pairs, got \(interp.writeString(pair))", at: loc)
                }
                renames.append((from, to))
            }
            return (inner.map { b in (renames.first { $0.0 === b.0 }?.1 ?? b.0, b.1) }, builtin)
        default:
            break
        }
        return try libraryBindings(items, spec, loc)
    }

    /// Every binding a library exports, loading it from a file the first time.
    private func libraryBindings(_ parts: [Value], _ spec: Value, _ loc: SourceLocation) throws -> ([(Symbol, Library.Binding)], Bool) {
        if isBuiltinLibrary(parts) {
            let system = interp.systemEnvironment
            var out: [(Symbol, Library.Binding)] = []
            for cell in system.cells.values where cell.value.raw != Value.unbound.raw && cell.name.isInterned {
                out.append((cell.name, .variable(cell)))
            }
            for (_, m) in system.macros { out.append((interp.symbols.intern(m.name), .macro(m))) }
            return (out, true)
        }
        let name = interp.writeString(spec)
        if libraries[name] == nil { try loadLibrary(parts, name: name, loc) }
        guard let lib = libraries[name] else {
            throw SchemeError.syntax("import: \(name) was loaded but its file does not define it", at: loc)
        }
        return (lib.exports.map { ($0.name, $0.binding) }, false)
    }

    /// Finds `(a b c)` as `a/b/c.sld` on the library path, the directory of
    /// the file being compiled and the working directory, and evaluates it.
    private func loadLibrary(_ parts: [Value], name: String, _ loc: SourceLocation) throws {
        var components: [String] = []
        for p in parts {
            if let s = p.as(Symbol.self) { components.append(s.name) } else if p.isFixnum { components.append(String(p.fixnum)) } else {
                throw SchemeError.syntax("import: bad library name \(name)", at: loc)
            }
        }
        var directories = interp.libraryPath
        if let dir = directoryOfFile(at: loc) { directories.append(dir) }
        directories.append(FileManager.default.currentDirectoryPath)
        let relative = components.joined(separator: "/")
        var tried: [String] = []
        for dir in directories {
            for ext in ["sld", "scm"] {
                let path = ((dir.isEmpty ? "." : dir) as NSString).appendingPathComponent("\(relative).\(ext)")
                tried.append(path)
                guard FileManager.default.fileExists(atPath: path) else { continue }
                guard interp.capabilities.contains([.load, .fileRead]) else {
                    throw SchemeError(.error, "import: loading the library file \(path) needs the load and file-read capabilities", location: loc)
                }
                let text: String
                do {
                    text = try String(contentsOfFile: path, encoding: .utf8)
                } catch {
                    throw SchemeError(.file, "import: cannot read \(path): \(Interpreter.describeFileError(error))", location: loc)
                }
                let saved = environment
                defer { environment = saved }
                environment = interp.userEnvironment
                _ = try interp.evaluateWithoutReporting(text, sourceName: path)
                return
            }
        }
        throw SchemeError.syntax("import: unknown library \(name): no \(relative).sld in "
            + (interp.libraryPath.isEmpty ? "" : "the library path (--lib-path, OMEGA_LIB_PATH), ")
            + "the script's directory or the working directory", at: loc)
    }

    /// The directory of the program file `loc` is in; nil for `-e`, the
    /// REPL, standard input and the embedded standard library.
    func directoryOfFile(at loc: SourceLocation) -> String? {
        guard loc.isKnown else { return nil }
        let file = interp.sourceFiles.name(of: loc)
        guard !file.hasPrefix("<") && !file.hasPrefix("stdlib/") else { return nil }
        return (file as NSString).deletingLastPathComponent
    }

    /// Binds what an import set makes visible in `env`.
    func bind(_ bindings: [(Symbol, Library.Binding)], in env: GlobalEnvironment) {
        for (name, binding) in bindings {
            switch binding {
            case .variable(let cell): env.share(cell, as: name)
            case .macro(let m): env.macros[ObjectIdentifier(name)] = m
            }
        }
    }
}

/// An environment as a Scheme value (R7RS 6.12): what `environment`,
/// `interaction-environment` and `scheme-report-environment` return and
/// `eval` compiles against.
final class EnvironmentObject: HeapObject, CustomPrintable {
    let environment: GlobalEnvironment
    init(_ environment: GlobalEnvironment) {
        self.environment = environment
        super.init(kind: .environment)
    }
    override func trace(_ marker: inout Marker) { environment.trace(&marker) }
    func printedForm(_ interp: Interpreter) -> String { "#<environment \(environment.name)>" }
}

/// `environment`, `interaction-environment`, the R5RS environments, and
/// `eval` in them.
enum EnvironmentLibrary: NativeLibrary {
    static func register(in i: Interpreter) {
        i.define("environment", min: 0, max: nil) { i, args in
            let env = GlobalEnvironment(name: "environment", heap: i.heap)
            for k in 0..<args.count {
                let (bindings, _) = try i.expander.importSet(args[k], .none)
                i.expander.bind(bindings, in: env)
            }
            return Value(object: i.heap.register(EnvironmentObject(env)))
        }
        i.define("interaction-environment") { i in
            Value(object: i.heap.register(EnvironmentObject(i.userEnvironment)))
        }
        // The R5RS environments: everything built in (special forms included).
        let report: (Interpreter, Arguments) throws -> Value = { i, _ in
            let env = GlobalEnvironment(name: "scheme-report-environment", heap: i.heap)
            let (bindings, _) = try i.expander.importSet(i.list([Value(object: i.symbols.intern("scheme")),
                                                                  Value(object: i.symbols.intern("base"))]), .none)
            i.expander.bind(bindings, in: env)
            return Value(object: i.heap.register(EnvironmentObject(env)))
        }
        i.define("scheme-report-environment", min: 0, max: 1, report)
        i.define("null-environment", min: 0, max: 1, report)
        i.define("eval", min: 1, max: 2) { i, args in
            guard let e = args.optional(1) else { return try i.eval(args[0]) }
            guard let env = e.as(EnvironmentObject.self) else {
                throw SchemeError.wrongType(e, expected: "an environment", argument: 2)
            }
            return try i.eval(args[0], in: env.environment)
        }
    }
}
