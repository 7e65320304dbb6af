/// The primitive special forms: quote, lambda, define, set!, if, begin.
extension Expander {
    func registerCoreForms() {
        special(sym.quote) { e, x, _, loc, _ in
            let items = try e.shape(x, loc, min: 2, max: 2, usage: "(quote datum)")
            return .constant(e.stripSyntax(items[1]))
        }

        special(sym.lambda) { e, x, scope, loc, _ in
            guard x.cdr.isPair else {
                throw SchemeError.syntax("lambda: expected (lambda params body …)", at: loc, form: x)
            }
            return .lambda(try e.expandLambda(x.cdr.car, x.cdr.cdr, scope, name: "", loc))
        }

        special(sym.define) { e, x, scope, loc, toplevel in
            guard toplevel else {
                throw SchemeError.syntax("define: only allowed at the top level or at the start of a body", at: loc, form: x)
            }
            guard let d = try e.parseDefinition(x, scope, loc) else {
                throw SchemeError.syntax("define: bad syntax", at: loc, form: x)
            }
            // A name a macro's template introduced (not one from the macro's
            // input) gets a fresh global of its own, so two expansions, or a
            // program's own definition of that name, do not collide.
            let name: Symbol
            if let alias = d.name as? Alias {
                let fresh = alias.topLevelName ?? e.interp.symbols.uninterned(alias.symbol.name)
                alias.topLevelName = fresh
                name = fresh
            } else {
                name = e.baseSymbol(d.name)
            }
            e.environment.macros[ObjectIdentifier(name)] = nil
            let cell = e.environment.definitionCell(for: name)
            let value = try e.expandNamed(d.value, scope, d.loc, name: name.name)
            return .sequence([.defineGlobal(cell, value), .constant(.unspecified)])
        }

        special(sym.set) { e, x, scope, loc, _ in
            let items = try e.shape(x, loc, min: 3, max: 3, usage: "(set! variable expression)")
            guard let name = e.identifier(items[1]) else {
                throw SchemeError.syntax("set!: expected a variable name, got \(e.interp.writeString(items[1]))", at: loc)
            }
            let value = try e.expandNamed(items[2], scope, loc, name: e.baseSymbol(name).name)
            return try e.assign(name, value, scope, loc)
        }

        special(sym.if) { e, x, scope, loc, _ in
            let items = try e.shape(x, loc, min: 3, max: 4, usage: "(if test consequent [alternative])")
            let test = try e.expand(items[1], scope, e.locationOf(items[1], loc))
            let then = try e.expand(items[2], scope, e.locationOf(items[2], loc))
            let other: Node = items.count == 4
                ? try e.expand(items[3], scope, e.locationOf(items[3], loc)) : .constant(.unspecified)
            return .if(test, then, other)
        }

        special(sym.begin) { e, x, scope, loc, toplevel in
            guard let items = listToArray(x) else {
                throw SchemeError.syntax("begin: improper list", at: loc, form: x)
            }
            if items.count == 1 { return .constant(.unspecified) }
            return .sequence(try items.dropFirst().map {
                try e.expand($0, scope, e.locationOf($0, loc), toplevel: toplevel)
            })
        }
    }

    /// The elements of form `x`, checking the count; `usage` shows the shape.
    func shape(_ x: Value, _ loc: SourceLocation, min: Int, max: Int = Int.max, usage: String) throws -> [Value] {
        guard let items = listToArray(x), items.count >= min, items.count <= max else {
            throw SchemeError.syntax("bad syntax, expected \(usage)", at: loc, form: x)
        }
        return items
    }
}
