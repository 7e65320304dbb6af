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

    /// `(import (scheme base) …)`: every standard library is built in, so
    /// importing one makes no change; an unknown library is an error.
    func expandImport(_ x: Value, _ loc: SourceLocation) throws -> Node {
        guard let sets = listToArray(x.cdr) else { throw SchemeError.syntax("import: expected (import (library name) …)", at: loc) }
        for set in sets {
            var spec = stripSyntax(set)
            // (only …), (except …), (prefix …), (rename …) wrap a library name.
            while let items = listToArray(spec), let head = items.first?.as(Symbol.self),
                  ["only", "except", "prefix", "rename"].contains(head.name), items.count >= 2 {
                spec = items[1]
            }
            guard let parts = listToArray(spec), let first = parts.first?.as(Symbol.self) else {
                throw SchemeError.syntax("import: bad import set \(interp.writeString(set))", at: loc)
            }
            let name = interp.writeString(spec)
            let standard = ["base", "char", "write", "read", "cxr", "lazy", "case-lambda", "inexact", "complex",
                            "time", "file", "process-context", "eval", "repl", "load", "r5rs"]
            if first.name == "scheme", parts.count == 2, let lib = parts[1].as(Symbol.self), standard.contains(lib.name) { continue }
            if first.name == "srfi", parts.count == 2, let n = parts[1].isFixnum ? parts[1].fixnum : nil, [1, 69].contains(n) { continue }
            if first.name == "omega" || definedLibraries.contains(name) { continue }
            throw SchemeError.syntax("import: unknown library \(name) (built in: (scheme …) standard libraries, (srfi 1), (srfi 69))", at: loc)
        }
        return .constant(.unspecified)
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
                let probe = interp.list([Value(object: interp.symbols.intern("import")), parts[1]])
                return (try? expandImport(probe, loc)) != nil
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

    /// `(define-library (name …) (export …) (import …) (begin …) (include …))`.
    /// Omega has one global namespace: the library's definitions become
    /// globals and its exports are all visible; `import` of its name is then
    /// accepted.
    func expandDefineLibrary(_ x: Value, _ scope: Scope, _ loc: SourceLocation, toplevel: Bool) throws -> Node {
        guard toplevel else { throw SchemeError.syntax("define-library: only allowed at the top level", at: loc) }
        let items = try shape(x, loc, min: 2, usage: "(define-library (name …) declaration …)")
        var body: [Value] = []
        for decl in items.dropFirst(2) {
            guard decl.isPair, let head = decl.car.as(Symbol.self) else {
                throw SchemeError.syntax("define-library: bad declaration \(interp.writeString(decl))", at: loc)
            }
            switch head.name {
            case "export": continue
            case "import": _ = try expandImport(decl, loc)
            case "begin": body.append(contentsOf: listToArray(decl.cdr) ?? [])
            case "include", "include-ci": body.append(contentsOf: try includedForms(decl, loc))
            case "cond-expand":
                for d in try condExpand(decl, loc) where d.isPair && d.car.as(Symbol.self)?.name == "begin" {
                    body.append(contentsOf: listToArray(d.cdr) ?? [])
                }
            case "include-library-declarations":
                throw SchemeError.syntax("define-library: \(head.name) is not supported", at: locationOf(decl, loc))
            default:
                throw SchemeError.syntax("define-library: unknown declaration \(head.name)", at: locationOf(decl, loc))
            }
        }
        definedLibraries.insert(interp.writeString(stripSyntax(items[1])))
        if body.isEmpty { return .constant(.unspecified) }
        return try expand(interp.cons(Value(object: sym.kBegin), interp.list(body)), scope, loc, toplevel: true)
    }

    /// The forms of the files an `(include "file" …)` names (relative to the
    /// working directory).
    func includedForms(_ x: Value, _ loc: SourceLocation) throws -> [Value] {
        guard let names = listToArray(x.cdr), !names.isEmpty else {
            throw SchemeError.syntax("include: expected (include \"file\" …)", at: loc)
        }
        var forms: [Value] = []
        for n in names {
            guard let path = interp.string(n) else { throw SchemeError.syntax("include: file names must be strings", at: loc) }
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
