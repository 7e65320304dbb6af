import Foundation

/// define-syntax, let-syntax, letrec-syntax, syntax-rules, syntax-error,
/// and the program-level forms import, define-library and include.
extension Expander {
    func registerMacroForms() {
        special(sym.defineSyntax) { e, x, scope, loc, toplevel in
            try e.defineSyntax(x, scope, loc, toplevel: toplevel)
            return .constant(.unspecified)
        }
        special(sym.letSyntax) { e, x, scope, loc, _ in try e.expandLetSyntax(x, scope, loc, recursive: false) }
        special(sym.letrecSyntax) { e, x, scope, loc, _ in try e.expandLetSyntax(x, scope, loc, recursive: true) }
        special(sym.syntaxRules) { _, _, _, loc, _ in
            throw SchemeError.syntax("syntax-rules is only valid as the transformer of define-syntax, let-syntax or letrec-syntax", at: loc)
        }
        special(interp.symbols.intern("import")) { e, x, _, loc, _ in try e.expandImport(x, loc) }
        special(interp.symbols.intern("define-library")) { e, x, scope, loc, toplevel in
            try e.expandDefineLibrary(x, scope, loc, toplevel: toplevel)
        }
        special(interp.symbols.intern("cond-expand")) { e, x, scope, loc, toplevel in
            try e.expand(e.interp.cons(Value(object: e.sym.kBegin), e.interp.list(try e.condExpand(x, loc))),
                         scope, loc, toplevel: toplevel)
        }
        special(interp.symbols.intern("include")) { e, x, scope, loc, toplevel in
            let forms = try e.includedForms(x, loc)
            return try e.expand(e.interp.cons(Value(object: e.sym.kBegin), e.interp.list(forms)), scope, loc, toplevel: toplevel)
        }
        special(sym.syntaxError) { e, x, _, loc, _ in
            let items = try e.shape(x, loc, min: 2, usage: "(syntax-error message form …)")
            var message = e.interp.string(items[1]) ?? e.interp.displayString(e.stripSyntax(items[1]))
            for irritant in items.dropFirst(2) { message += " " + e.interp.writeString(e.stripSyntax(irritant)) }
            throw SchemeError.syntax(message, at: loc)
        }
    }

    /// `(import import-set …)`. In a program, the standard libraries are
    /// already visible (importing one changes nothing unless it is renamed
    /// or prefixed); a library's exports are bound under the names the
    /// import set gives them. In a library, only what it imports is visible.
    func expandImport(_ x: Value, _ loc: SourceLocation) throws -> Node {
        guard let sets = listToArray(x.cdr) else { throw SchemeError.syntax("import: expected (import (library name) …)", at: loc) }
        for set in sets {
            let (bindings, builtin) = try importSet(set, loc)
            if builtin && environment === interp.userEnvironment && !renames(set) { continue }
            bind(bindings, in: environment)
        }
        return .constant(.unspecified)
    }

    /// Whether an import set changes the names it imports (prefix, rename).
    private func renames(_ set: Value) -> Bool {
        guard let items = listToArray(stripSyntax(set)), let head = items.first?.as(Symbol.self),
              items.count >= 2, listToArray(items[1]) != nil else { return false }
        return head.name == "prefix" || head.name == "rename" || renames(items[1])
    }

    /// The features `cond-expand` and `(features)` know.
    static let features: Set<String> = ["r7rs", "exact-closed", "ratios", "full-unicode", "swift", "omega"]

    /// The body of the first `cond-expand` clause whose requirement holds.
    func condExpand(_ x: Value, _ loc: SourceLocation) throws -> [Value] {
        guard let clauses = listToArray(x.cdr) else { throw SchemeError.syntax("cond-expand: expected clauses", at: loc) }
        func holds(_ req: Value) throws -> Bool {
            let r = stripSyntax(req)
            if let s = r.as(Symbol.self) { return s.name == "else" || Expander.features.contains(s.name) }
            guard let parts = listToArray(r), let head = parts.first?.as(Symbol.self) else {
                throw SchemeError.syntax("cond-expand: bad requirement \(interp.writeString(r))", at: loc)
            }
            switch head.name {
            case "and": return try parts.dropFirst().allSatisfy(holds)
            case "or": return try parts.dropFirst().contains(where: holds)
            case "not": return try !(parts.count == 2 && holds(parts[1]))
            case "library":
                guard parts.count == 2 else { return false }
                return (try? importSet(parts[1], loc)) != nil
            default:
                throw SchemeError.syntax("cond-expand: unknown requirement \(head.name)", at: loc)
            }
        }
        for clause in clauses {
            guard let parts = listToArray(clause), !parts.isEmpty else {
                throw SchemeError.syntax("cond-expand: bad clause \(interp.writeString(clause))", at: loc)
            }
            if try holds(parts[0]) { return Array(parts.dropFirst()) }
        }
        return []
    }

    /// `(define-library (name …) (export …) (import …) (begin …) (include …))`:
    /// the library's body is compiled in an environment of its own that
    /// sees only what it imports; its exports are what `import` binds.
    func expandDefineLibrary(_ x: Value, _ scope: Scope, _ loc: SourceLocation, toplevel: Bool) throws -> Node {
        guard toplevel else { throw SchemeError.syntax("define-library: only allowed at the top level", at: loc) }
        let items = try shape(x, loc, min: 2, usage: "(define-library (name …) declaration …)")
        let libraryName = stripSyntax(items[1])
        guard let nameParts = listToArray(libraryName), !nameParts.isEmpty,
              nameParts.allSatisfy({ $0.as(Symbol.self) != nil || ($0.isFixnum && $0.fixnum >= 0) }) else {
            throw SchemeError.syntax("define-library: a library name is a list of identifiers and integers, got \(interp.writeString(libraryName))", at: loc)
        }
        let name = interp.writeString(libraryName)
        let env = GlobalEnvironment(name: name, heap: interp.heap)
        let library = Library(name: name, environment: env)
        let saved = environment
        environment = env
        // Registered (so the collector sees its environment) while it is
        // compiled; a library whose definition fails is not left behind.
        let previous = libraries[name]
        libraries[name] = library
        var finished = false
        defer {
            environment = saved
            if !finished { libraries[name] = previous }
        }

        var exports: [(inside: Symbol, outside: Symbol, loc: SourceLocation)] = []
        var body: [Value] = []
        func declarations(_ decls: ArraySlice<Value>) throws {
            for decl in decls {
                let here = locationOf(decl, loc)
                guard decl.isPair, let head = stripSyntax(decl.car).as(Symbol.self) else {
                    throw SchemeError.syntax("define-library: bad declaration \(interp.writeString(stripSyntax(decl)))", at: here)
                }
                switch head.name {
                case "export":
                    for spec in listToArray(stripSyntax(decl.cdr)) ?? [] {
                        if let s = spec.as(Symbol.self) {
                            exports.append((s, s, here))
                        } else if let r = listToArray(spec), r.count == 3, r[0].as(Symbol.self)?.name == "rename",
                                  let from = r[1].as(Symbol.self), let to = r[2].as(Symbol.self) {
                            exports.append((from, to, here))
                        } else {
                            throw SchemeError.syntax("export: expected an identifier or (rename name external-name), got \(interp.writeString(spec))", at: here)
                        }
                    }
                case "import": _ = try expandImport(decl, here)
                case "begin": body.append(contentsOf: listToArray(decl.cdr) ?? [])
                case "include", "include-ci": body.append(contentsOf: try includedForms(decl, here))
                case "include-library-declarations":
                    try declarations(ArraySlice(try includedForms(decl, here)))
                case "cond-expand": try declarations(ArraySlice(try condExpand(decl, here)))
                default:
                    throw SchemeError.syntax("define-library: unknown declaration \(head.name)", at: here)
                }
            }
        }
        try declarations(items.dropFirst(2))
        let node = body.isEmpty ? Node.constant(.unspecified)
            : try expand(interp.cons(Value(object: sym.kBegin), interp.list(body)), scope, loc, toplevel: true)
        for (inside, outside, here) in exports {
            let id = ObjectIdentifier(inside)
            if let m = env.macros[id] {
                library.exports.append((outside, .macro(m)))
            } else if let cell = env.cells[id] {
                library.exports.append((outside, .variable(cell)))
            } else {
                throw SchemeError.syntax("define-library \(name): exports \(inside.name), which it neither defines nor imports", at: here)
            }
        }
        finished = true
        return node
    }

    /// The forms of the files an `(include "file" …)` names (relative to the
    /// including file's directory, else the working directory).
    func includedForms(_ x: Value, _ loc: SourceLocation) throws -> [Value] {
        guard let names = listToArray(x.cdr), !names.isEmpty else {
            throw SchemeError.syntax("include: expected (include \"file\" …)", at: loc)
        }
        var forms: [Value] = []
        for n in names {
            guard let given = interp.string(n) else { throw SchemeError.syntax("include: file names must be strings", at: loc) }
            // A relative name is found beside the file that includes it (a
            // library's own files), else from the working directory.
            var path = given
            if !given.hasPrefix("/"), let dir = directoryOfFile(at: loc) {
                let beside = (dir as NSString).appendingPathComponent(given)
                if FileManager.default.fileExists(atPath: beside) { path = beside }
            }
            guard interp.capabilities.contains([.load, .fileRead]) else {
                throw SchemeError(.file, "include: permission denied: load (capabilities)", location: loc)
            }
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw SchemeError(.file, "include: cannot read \(path): \(Interpreter.describeFileError(error))", location: loc)
            }
            var reader = Reader(text, fileID: interp.sourceFiles.id(for: path), interp: interp)
            while let f = try reader.read() { forms.append(f) }
        }
        return forms
    }

    /// `(define-syntax name transformer)`: at the top level a global macro,
    /// in a body a binding of `scope`.
    func defineSyntax(_ x: Value, _ scope: Scope, _ loc: SourceLocation, toplevel: Bool) throws {
        let items = try shape(x, loc, min: 3, max: 3, usage: "(define-syntax name (syntax-rules …))")
        guard let name = identifier(items[1]) else {
            throw SchemeError.syntax("define-syntax: expected a name, got \(interp.writeString(items[1]))", at: loc)
        }
        if toplevel {
            let macro = try parseTransformer(items[2], name: baseSymbol(name).name, env: nil, loc)
            environment.macros[ObjectIdentifier(baseSymbol(name))] = macro
        } else {
            let macro = try parseTransformer(items[2], name: baseSymbol(name).name, env: scope, loc)
            scope.bind(name, macro: macro)
        }
    }

    /// `(let-syntax ((name transformer) …) body …)`; for letrec-syntax the
    /// transformers see each other.
    func expandLetSyntax(_ x: Value, _ scope: Scope, _ loc: SourceLocation, recursive: Bool) throws -> Node {
        let what = recursive ? "letrec-syntax" : "let-syntax"
        let items = try shape(x, loc, min: 3, usage: "(\(what) ((name (syntax-rules …)) …) body …)")
        guard let specs = listToArray(items[1]) else {
            throw SchemeError.syntax("\(what): expected a list of (name transformer)", at: loc)
        }
        let inner = Scope(parent: scope, lambda: scope.lambda)
        for spec in specs {
            guard let parts = listToArray(spec), parts.count == 2, let name = identifier(parts[0]) else {
                throw SchemeError.syntax("\(what): bad binding \(interp.writeString(spec))", at: loc)
            }
            let macro = try parseTransformer(parts[1], name: baseSymbol(name).name, env: recursive ? inner : scope, loc)
            inner.bind(name, macro: macro)
        }
        return try expandBody(x.cdr.cdr, inner, loc, what: what)
    }
}
