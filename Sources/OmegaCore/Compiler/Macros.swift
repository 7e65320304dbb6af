/// Hygienic `syntax-rules` macros.
///
/// Expansion renames every identifier a template introduces into a fresh
/// `Alias` that remembers the scope where the macro was defined. A binding
/// form in the expansion binds the alias (not the user's symbol of the same
/// name), and a free alias resolves in the macro's own scope — so a macro's
/// `temp` cannot capture the user's `temp`, and the user's `if` cannot
/// change the macro's `if` (R7RS 4.3).

/// An identifier introduced by a macro expansion.
final class Alias: HeapObject, CustomPrintable {
    /// The identifier it renames (a symbol, or an alias of a nested expansion).
    let name: HeapObject
    /// Where the macro was defined (nil: the top level).
    let env: Scope?
    /// The top-level environment the macro was defined in: a free
    /// identifier its template introduces means what it means there.
    let globals: GlobalEnvironment

    init(name: HeapObject, env: Scope?, globals: GlobalEnvironment) {
        self.name = name
        self.env = env
        self.globals = globals
        super.init(kind: .opaque)
    }

    /// The symbol under all the renaming.
    var symbol: Symbol {
        var n = name
        while let a = n as? Alias { n = a.name }
        return n as? Symbol ?? Symbol(name: "?", interned: false)
    }

    /// When a macro's expansion defines this identifier at the top level,
    /// the fresh global name it got: references from the same expansion
    /// reach that definition, and nothing outside it does (hygiene of
    /// introduced top-level names).
    var topLevelName: Symbol?

    override func trace(_ marker: inout Marker) {
        marker.mark(object: name)
        if let t = topLevelName { marker.mark(object: t) }
    }
    func printedForm(_ interp: Interpreter) -> String { symbol.name }
}

/// A `syntax-rules` transformer.
final class Macro {
    let name: String
    let literals: [HeapObject]
    /// A custom ellipsis identifier, or nil for the standard `...` (which
    /// matches renamed copies of `...` too, as macro-writing macros make).
    let ellipsis: HeapObject?
    let rules: [(pattern: Value, template: Value)]
    /// The scope of the definition (nil: top level).
    let env: Scope?
    /// The top-level environment of the definition.
    let globals: GlobalEnvironment

    /// Reports the rules' data to the collector (macros outlive the
    /// expansion that defined them).
    func trace(_ marker: inout Marker) {
        for (p, t) in rules { marker.mark(p); marker.mark(t) }
        for l in literals { marker.mark(object: l) }
        if let e = ellipsis { marker.mark(object: e) }
    }

    init(name: String, literals: [HeapObject], ellipsis: HeapObject?, rules: [(Value, Value)], env: Scope?,
         globals: GlobalEnvironment) {
        self.name = name
        self.literals = literals
        self.ellipsis = ellipsis
        self.rules = rules
        self.env = env
        self.globals = globals
    }
}

/// What a pattern variable matched: one form, or a sequence under an ellipsis.
private indirect enum Match {
    case one(Value)
    case many([Match])
}

extension Expander {
    // MARK: Identifiers

    /// The identifier a value is (a symbol or an alias), else nil.
    func identifier(_ v: Value) -> HeapObject? {
        guard v.isOtherObject else { return nil }
        if let s = v.as(Symbol.self) { return s }
        return v.as(Alias.self)
    }

    func baseSymbol(_ id: HeapObject) -> Symbol {
        if let s = id as? Symbol { return s }
        return (id as? Alias)?.symbol ?? sym.quote
    }

    /// Data with every alias replaced by its symbol (what `quote` sees).
    /// Data without aliases (all the reader makes, circular data included)
    /// is returned as it is.
    func stripSyntax(_ v: Value) -> Value {
        guard containsAlias(v) else { return v }
        return stripAliases(v)
    }

    /// Whether any alias occurs in the data (a walk safe on cycles).
    private func containsAlias(_ root: Value) -> Bool {
        var seen = Set<UInt64>()
        var work = [root]
        while let v = work.popLast() {
            guard v.isHeapObject, seen.insert(v.raw).inserted else { continue }
            if v.isPair { work.append(v.car); work.append(v.cdr); continue }
            if v.as(Alias.self) != nil { return true }
            if let vec = v.as(SchemeVector.self) { work.append(contentsOf: vec.items) }
        }
        return false
    }

    /// A copy of the data with symbols for aliases, made pair by pair from
    /// a work list (not by recursion), so shared parts stay shared and a
    /// circular datum gets a circular copy.
    private func stripAliases(_ root: Value) -> Value {
        var copies: [UInt64: Value] = [:]
        var unfilled: [(from: Value, to: Value)] = []
        func copy(_ v: Value) -> Value {
            if v.isPair {
                if let c = copies[v.raw] { return c }
                let c = interp.heap.locatedPair(.null, .null, location: v.pair.location)
                copies[v.raw] = c
                unfilled.append((v, c))
                return c
            }
            guard v.isOtherObject else { return v }
            if let a = v.as(Alias.self) { return Value(object: a.symbol) }
            guard let vector = v.as(SchemeVector.self) else { return v }
            if let c = copies[v.raw] { return c }
            let c = Value(object: interp.heap.register(SchemeVector(vector.items, mutable: false)))
            copies[v.raw] = c
            unfilled.append((v, c))
            return c
        }
        let result = copy(root)
        while let (from, to) = unfilled.popLast() {
            if from.isPair {
                to.pair.car = copy(from.car)
                to.pair.cdr = copy(from.cdr)
            } else if let source = from.as(SchemeVector.self), let target = to.as(SchemeVector.self) {
                for k in source.items.indices { target.items[k] = copy(source.items[k]) }
            }
        }
        return result
    }

    // MARK: Definition

    /// Parses `(syntax-rules …)` (or `(er-…)` is rejected) into a macro.
    func parseTransformer(_ spec: Value, name: String, env: Scope?, _ loc: SourceLocation) throws -> Macro {
        guard let items = listToArray(spec), items.count >= 2, let head = identifier(items[0]),
              case .special(let kw, _) = resolve(head, env), kw === sym.syntaxRules else {
            throw SchemeError.syntax("\(name): expected (syntax-rules (literal …) (pattern template) …)", at: loc)
        }
        var rest = Array(items.dropFirst())
        var ellipsis: HeapObject? = nil
        if let custom = identifier(rest[0]) {
            ellipsis = custom
            rest.removeFirst()
        }
        guard let first = rest.first, let literalValues = listToArray(first) else {
            throw SchemeError.syntax("syntax-rules: expected a list of literals", at: loc)
        }
        var literals: [HeapObject] = []
        for l in literalValues {
            guard let id = identifier(l) else { throw SchemeError.syntax("syntax-rules: literals must be identifiers", at: loc) }
            literals.append(id)
        }
        var rules: [(Value, Value)] = []
        for r in rest.dropFirst() {
            guard let parts = listToArray(r), parts.count == 2, parts[0].isPair else {
                throw SchemeError.syntax("syntax-rules: each rule must be (pattern template)", at: locationOf(r, loc))
            }
            rules.append((parts[0], parts[1]))
        }
        return Macro(name: name, literals: literals, ellipsis: ellipsis, rules: rules, env: env, globals: environment)
    }

    // MARK: Use

    /// Expands one use of a macro.
    func transcribe(_ macro: Macro, _ form: Value, _ scope: Scope, _ loc: SourceLocation) throws -> Value {
        try tick()
        do {
            for rule in macro.rules {
                var bindings: [ObjectIdentifier: Match] = [:]
                // The keyword position is ignored (R7RS).
                if try match(rule.pattern.cdr, form.cdr, macro, scope, &bindings) {
                    var renames: [ObjectIdentifier: Value] = [:]
                    return try instantiate(rule.template, bindings, macro, &renames, loc)
                }
            }
        } catch var e as SchemeError where !e.location.isKnown {
            e.location = loc  // a bad pattern or template: placed at the macro's use
            throw e
        }
        throw SchemeError.syntax("\(macro.name): no syntax-rules pattern matches \(interp.writeString(stripSyntax(form)))", at: loc)
    }

    private func isEllipsis(_ v: Value, _ macro: Macro) -> Bool {
        guard let id = identifier(v) else { return false }
        if let custom = macro.ellipsis { return id === custom }
        return baseSymbol(id) === sym.ellipsis && !isLiteral(id, macro)
    }

    private func isLiteral(_ id: HeapObject, _ macro: Macro) -> Bool {
        macro.literals.contains { $0 === id }
    }

    /// A literal matches an input identifier bound the same way (R7RS
    /// free-identifier=?): both unbound globals of one name, or one binding.
    private func sameBinding(_ input: HeapObject, _ scope: Scope, _ literal: HeapObject, _ macro: Macro) -> Bool {
        switch (resolve(input, scope), resolve(literal, macro.env, macro.globals)) {
        case (.local(let a), .local(let b)): return a === b
        case (.global(let a, _), .global(let b, _)): return a === b
        case (.special(let a, _), .special(let b, _)): return a === b
        case (.macro(let a), .macro(let b)): return a === b
        case (.loop(let a), .loop(let b)): return a === b
        default: return false
        }
    }

    private func match(_ pattern: Value, _ form: Value, _ macro: Macro, _ scope: Scope,
                       _ b: inout [ObjectIdentifier: Match]) throws -> Bool {
        try tick()
        if interp.stackGuard.isLow { throw nestedTooDeeply(macro) }
        if let id = identifier(pattern) {
            if isLiteral(id, macro) {
                guard let input = identifier(form) else { return false }
                return sameBinding(input, scope, id, macro)
            }
            if baseSymbol(id) === sym.underscore { return true }
            b[ObjectIdentifier(id)] = .one(form)
            return true
        }
        if pattern.isPair {
            // Elements before an ellipsis, the repeated one, and those after.
            var before: [Value] = []
            var repeated: Value? = nil
            var after: [Value] = []
            var walk = ListWalk(pattern)
            var skipEllipsis = false
            while let p = walk.next() {
                if skipEllipsis { skipEllipsis = false; continue }
                if p.cdr.isPair && isEllipsis(p.cdr.car, macro) && repeated == nil {
                    repeated = p.car
                    skipEllipsis = true
                    continue
                }
                if repeated == nil { before.append(p.car) } else { after.append(p.car) }
            }
            if walk.isCircular { throw SchemeError(.syntax, "\(macro.name): a pattern is a circular list") }
            let tailPattern = walk.rest
            // Walk the input.
            var f = form
            for sub in before {
                guard f.isPair, try match(sub, f.car, macro, scope, &b) else { return false }
                f = f.cdr
            }
            if let rep = repeated {
                var items: [Value] = []
                var walk = ListWalk(f)
                while let q = walk.next() { items.append(q.car) }
                if walk.isCircular { return false }
                let available = items.count - after.count
                guard available >= 0 else { return false }
                // With a non-list tail pattern, the repeated part takes all it can.
                var seqs: [[ObjectIdentifier: Match]] = []
                for item in items.prefix(available) {
                    var one: [ObjectIdentifier: Match] = [:]
                    guard try match(rep, item, macro, scope, &one) else { return false }
                    seqs.append(one)
                }
                for v in try patternVariables(rep, macro) {
                    b[ObjectIdentifier(v)] = .many(seqs.map { $0[ObjectIdentifier(v)] ?? .many([]) })
                }
                var rest = f
                for _ in 0..<available { rest = rest.cdr }
                for sub in after {
                    guard rest.isPair, try match(sub, rest.car, macro, scope, &b) else { return false }
                    rest = rest.cdr
                }
                return try match(tailPattern, rest, macro, scope, &b)
            }
            return try match(tailPattern, f, macro, scope, &b)
        }
        if pattern.isNull { return form.isNull }
        if let vp = pattern.as(SchemeVector.self) {
            guard let vf = form.as(SchemeVector.self) else { return false }
            return try match(interp.list(vp.items), interp.list(vf.items), macro, scope, &b)
        }
        return Equality.equal(pattern, form)
    }

    /// The pattern variables inside a pattern.
    private func patternVariables(_ pattern: Value, _ macro: Macro) throws -> [HeapObject] {
        try tick()
        if interp.stackGuard.isLow { throw nestedTooDeeply(macro) }
        if let id = identifier(pattern) {
            if isLiteral(id, macro) || isEllipsis(pattern, macro) || baseSymbol(id) === sym.underscore { return [] }
            return [id]
        }
        if pattern.isPair { return try patternVariables(pattern.car, macro) + patternVariables(pattern.cdr, macro) }
        if let v = pattern.as(SchemeVector.self) { return try v.items.flatMap { try patternVariables($0, macro) } }
        return []
    }

    /// A pattern or template too deep for the stack: circular, or absurdly nested.
    private func nestedTooDeeply(_ macro: Macro) -> SchemeError {
        SchemeError(.syntax, "\(macro.name): a pattern or template is nested too deeply (or circular)")
    }

    private func instantiate(_ t: Value, _ b: [ObjectIdentifier: Match], _ macro: Macro,
                             _ renames: inout [ObjectIdentifier: Value], _ loc: SourceLocation) throws -> Value {
        try tick()
        if interp.stackGuard.isLow { throw nestedTooDeeply(macro) }
        if let id = identifier(t) {
            if let m = b[ObjectIdentifier(id)] {
                guard case .one(let v) = m else {
                    throw SchemeError.syntax("\(macro.name): pattern variable \(baseSymbol(id).name) used without its ellipsis", at: loc)
                }
                return v
            }
            if let r = renames[ObjectIdentifier(id)] { return r }
            let alias = Value(object: interp.heap.register(Alias(name: id, env: macro.env, globals: macro.globals)))
            renames[ObjectIdentifier(id)] = alias
            return alias
        }
        if t.isPair {
            // (... ...) and (... template): the ellipsis taken literally.
            if isEllipsis(t.car, macro), t.cdr.isPair {
                let escaped = Macro(name: macro.name, literals: macro.literals, ellipsis: sym.kQuote,
                                    rules: [], env: macro.env, globals: macro.globals)
                return try instantiate(t.cdr.car, b, escaped, &renames, loc)
            }
            let element = t.car
            var rest = t.cdr
            var depth = 0
            while rest.isPair && isEllipsis(rest.car, macro) {
                depth += 1
                rest = rest.cdr
                if depth > Expander.maxDepth { throw nestedTooDeeply(macro) }
            }
            let tail = try instantiate(rest, b, macro, &renames, loc)
            if depth == 0 {
                let head = try instantiate(element, b, macro, &renames, loc)
                return interp.heap.locatedPair(head, tail, location: t.isPair ? t.pair.location : loc)
            }
            var results = try repeatInstantiate(element, depth, b, macro, &renames, loc)
            var r = tail
            results.reverse()
            for x in results { r = interp.cons(x, r) }
            return r
        }
        if let v = t.as(SchemeVector.self) {
            let l = try instantiate(interp.list(v.items), b, macro, &renames, loc)
            return Value(object: interp.heap.register(SchemeVector(listToArray(l) ?? [], mutable: false)))
        }
        return t
    }

    /// Instantiates `element …` (with `depth` ellipses) once per match.
    private func repeatInstantiate(_ element: Value, _ depth: Int, _ b: [ObjectIdentifier: Match], _ macro: Macro,
                                   _ renames: inout [ObjectIdentifier: Value], _ loc: SourceLocation) throws -> [Value] {
        let vars = try patternVariables(element, macro).filter {
            if case .many? = b[ObjectIdentifier($0)] { return true } else { return false }
        }
        guard !vars.isEmpty else {
            throw SchemeError.syntax("\(macro.name): ellipsis follows a template with no repeated pattern variable", at: loc)
        }
        var count = -1
        for v in vars {
            if case .many(let items)? = b[ObjectIdentifier(v)] {
                if count >= 0 && items.count != count {
                    throw SchemeError.syntax("\(macro.name): pattern variables under one ellipsis matched different lengths", at: loc)
                }
                count = items.count
            }
        }
        var out: [Value] = []
        for i in 0..<max(count, 0) {
            var inner = b
            for v in vars {
                if case .many(let items)? = b[ObjectIdentifier(v)] { inner[ObjectIdentifier(v)] = items[i] }
            }
            if depth > 1 {
                out.append(contentsOf: try repeatInstantiate(element, depth - 1, inner, macro, &renames, loc))
            } else {
                out.append(try instantiate(element, inner, macro, &renames, loc))
            }
        }
        return out
    }
}
