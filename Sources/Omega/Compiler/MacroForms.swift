/// define-syntax, let-syntax, letrec-syntax, syntax-rules, syntax-error.
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
        special(sym.syntaxError) { e, x, _, loc, _ in
            let items = try e.shape(x, loc, min: 2, usage: "(syntax-error message form …)")
            var message = e.interp.string(items[1]) ?? e.interp.displayString(e.stripSyntax(items[1]))
            for irritant in items.dropFirst(2) { message += " " + e.interp.writeString(e.stripSyntax(irritant)) }
            throw SchemeError.syntax(message, at: loc)
        }
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
            globalMacros[ObjectIdentifier(baseSymbol(name))] = macro
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
