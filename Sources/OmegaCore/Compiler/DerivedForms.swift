/// Derived expression types (R7RS 4.2): let and friends, do, cond, case,
/// and, or, when, unless, quasiquote.
///
/// Most are rewritten into simpler forms as data and expanded again. The
/// rewrites use *private keywords* — uninterned symbols bound to the core
/// forms — and embed built-in procedures as constants, so a user's local
/// variable named `if` or `memv` cannot change what a `cond` or `case` means.
extension Expander {
    func registerDerivedForms() {
        special(sym.let, Expander.expandLet)
        special(sym.letStar, Expander.expandLetStar)
        special(sym.letrec, Expander.expandLetrec)
        special(sym.letrecStar, Expander.expandLetrec)
        special(sym.do, Expander.expandDo)
        special(sym.cond, Expander.expandCond)
        special(sym.case, Expander.expandCase)
        special(sym.and, Expander.expandAnd)
        special(sym.or, Expander.expandOr)
        special(sym.when) { e, x, scope, loc, _ in
            let items = try e.shape(x, loc, min: 3, usage: "(when test body …)")
            let body = e.interp.cons(Value(object: e.sym.kBegin), x.cdr.cdr)
            return try e.expand(e.list(e.sym.kIf, items[1], body), scope, loc)
        }
        special(sym.unless) { e, x, scope, loc, _ in
            let items = try e.shape(x, loc, min: 3, usage: "(unless test body …)")
            let body = e.interp.cons(Value(object: e.sym.kBegin), x.cdr.cdr)
            return try e.expand(e.list(e.sym.kIf, items[1], .unspecified, body), scope, loc)
        }
        special(sym.quasiquote) { e, x, scope, loc, _ in
            let items = try e.shape(x, loc, min: 2, max: 2, usage: "(quasiquote template)")
            return try e.expand(try e.quasi(items[1], depth: 1, scope, loc), scope, loc)
        }
        // The private aliases the rewrites use.
        for (alias, name) in [(sym.kIf, sym.if), (sym.kBegin, sym.begin), (sym.kLet, sym.let),
                              (sym.kLambda, sym.lambda), (sym.kQuote, sym.quote), (sym.kOr, sym.or),
                              (sym.kCond, sym.cond)] {
            specialAlias(alias, for: name)
        }
    }

    /// Parses `((name init) …)`; `allowNoInit` accepts `(name)` (for do).
    func parseBindings(_ b: Value, _ loc: SourceLocation, what: String) throws -> [(HeapObject, Value, Value?)] {
        guard let items = listToArray(b) else {
            throw SchemeError.syntax("\(what): bindings must be a list of (name value)", at: loc)
        }
        return try items.map { binding in
            guard let parts = listToArray(binding), parts.count >= 2, parts.count <= 3,
                  let name = identifier(parts[0]) else {
                throw SchemeError.syntax("\(what): bad binding \(interp.writeString(binding)), expected (name value)", at: locationOf(binding, loc))
            }
            if parts.count == 3 && what != "do" {
                throw SchemeError.syntax("\(what): bad binding \(interp.writeString(binding)), expected (name value)", at: locationOf(binding, loc))
            }
            return (name, parts[1], parts.count == 3 ? parts[2] : nil)
        }
    }

    static func expandLet(_ e: Expander, _ x: Value, _ scope: Scope, _ loc: SourceLocation, _: Bool) throws -> Node {
        guard x.cdr.isPair else { throw SchemeError.syntax("let: expected (let ((name value) …) body …)", at: loc, form: x) }
        if let name = e.identifier(x.cdr.car) { return try e.expandNamedLet(name, x, scope, loc) }
        let bindings = try e.parseBindings(x.cdr.car, loc, what: "let")
        let inits = try bindings.map { try e.expand($0.1, scope, e.locationOf($0.1, loc)) }
        let inner = Scope(parent: scope, lambda: scope.lambda)
        var seen = Set<ObjectIdentifier>()
        var vars: [Variable] = []
        for (name, _, _) in bindings {
            guard seen.insert(ObjectIdentifier(name)).inserted else {
                throw SchemeError.syntax("let: duplicate variable \(e.baseSymbol(name).name)", at: loc)
            }
            let v = scope.lambda.newVariable(e.baseSymbol(name))
            inner.bind(name, v)
            vars.append(v)
        }
        for (i, v) in vars.enumerated() {
            if case .lambda(let lam) = inits[i], lam.name.isEmpty { lam.name = v.name.name }
        }
        let body = try e.expandBody(x.cdr.cdr, inner, loc, what: "let")
        return .bind(vars, inits, body)
    }

    /// `(let name ((var init) …) body …)`: a local recursive procedure called
    /// at once.
    func expandNamedLet(_ name: HeapObject, _ x: Value, _ scope: Scope, _ loc: SourceLocation) throws -> Node {
        guard x.cdr.cdr.isPair else {
            throw SchemeError.syntax("let: expected (let name ((var value) …) body …)", at: loc, form: x)
        }
        let bindings = try parseBindings(x.cdr.cdr.car, loc, what: "let")
        let inits = try bindings.map { try expand($0.1, scope, locationOf($0.1, loc)) }
        if let loop = try expandLoop(name, bindings.map { $0.0 }, inits, x.cdr.cdr.cdr, scope, loc) {
            return loop
        }
        let loopScope = Scope(parent: scope, lambda: scope.lambda)
        let loopVar = scope.lambda.newVariable(baseSymbol(name))
        loopScope.bind(name, loopVar)
        var params = Value.null
        for (n, _, _) in bindings.reversed() { params = interp.cons(Value(object: n), params) }
        let lam = try expandLambda(params, x.cdr.cdr.cdr, loopScope, name: baseSymbol(name).name, loc)
        loopVar.isAssigned = true
        return .letrec([loopVar], [.lambda(lam)], .call(.local(loopVar, loc), inits, loc))
    }

    /// Tries to compile a named let as a loop in the current frame: possible
    /// when the name is only ever called, in tail position of the loop body,
    /// from the loop's own frame. Returns nil when it is not.
    private func expandLoop(_ name: HeapObject, _ names: [HeapObject], _ inits: [Node], _ body: Value,
                            _ scope: Scope, _ loc: SourceLocation) throws -> Node? {
        var seen = Set<ObjectIdentifier>()
        for n in names where !seen.insert(ObjectIdentifier(n)).inserted {
            throw SchemeError.syntax("let: duplicate variable \(baseSymbol(n).name)", at: loc)
        }
        let vars = names.map { scope.lambda.newVariable(baseSymbol($0)) }
        let label = LoopLabel(name: baseSymbol(name), owner: scope.lambda, variables: vars)
        let labelScope = Scope(parent: scope, lambda: scope.lambda)
        labelScope.bind(name, loop: label)
        let bodyScope = Scope(parent: labelScope, lambda: scope.lambda)
        for (n, v) in zip(names, vars) { bodyScope.bind(n, v) }
        let expanded: Node
        do {
            expanded = try expandBody(body, bodyScope, loc, what: "let")
        } catch is NotASimpleLoop {
            return nil
        }
        guard Expander.loopCallsAreTailCalls(expanded, label, tail: true) else { return nil }
        return .loop(label, inits, expanded)
    }

    /// Whether every call of `label` in `node` is in tail position (relative
    /// to the loop body) and none is inside another call's arguments.
    static func loopCallsAreTailCalls(_ node: Node, _ label: LoopLabel, tail: Bool) -> Bool {
        switch node {
        case .constant, .local, .global, .lambda:
            return true  // lambdas cannot hold a jump (the expander refused it)
        case .setLocal(_, let v), .setGlobal(_, let v, _), .defineGlobal(_, let v):
            return loopCallsAreTailCalls(v, label, tail: false)
        case .if(let t, let a, let b):
            return loopCallsAreTailCalls(t, label, tail: false)
                && loopCallsAreTailCalls(a, label, tail: tail) && loopCallsAreTailCalls(b, label, tail: tail)
        case .sequence(let nodes):
            for (i, n) in nodes.enumerated() where !loopCallsAreTailCalls(n, label, tail: tail && i == nodes.count - 1) {
                return false
            }
            return true
        case .call(let f, let args, _):
            return loopCallsAreTailCalls(f, label, tail: false) && args.allSatisfy { loopCallsAreTailCalls($0, label, tail: false) }
        case .bind(_, let inits, let body), .letrec(_, let inits, let body), .loop(_, let inits, let body):
            return inits.allSatisfy { loopCallsAreTailCalls($0, label, tail: false) }
                && loopCallsAreTailCalls(body, label, tail: tail)
        case .loopCall(let l, let args, _):
            return (l !== label || tail) && args.allSatisfy { loopCallsAreTailCalls($0, label, tail: false) }
        }
    }

    static func expandLetStar(_ e: Expander, _ x: Value, _ scope: Scope, _ loc: SourceLocation, _: Bool) throws -> Node {
        guard x.cdr.isPair else { throw SchemeError.syntax("let*: expected (let* ((name value) …) body …)", at: loc, form: x) }
        let bindings = try e.parseBindings(x.cdr.car, loc, what: "let*")
        var current = scope
        var steps: [(Variable, Node)] = []
        for (name, initForm, _) in bindings {
            let initNode = try e.expandNamed(initForm, current, e.locationOf(initForm, loc), name: e.baseSymbol(name).name)
            let inner = Scope(parent: current, lambda: scope.lambda)
            let v = scope.lambda.newVariable(e.baseSymbol(name))
            inner.bind(name, v)
            steps.append((v, initNode))
            current = inner
        }
        var node = try e.expandBody(x.cdr.cdr, current, loc, what: "let*")
        for (v, i) in steps.reversed() { node = .bind([v], [i], node) }
        return node
    }

    static func expandLetrec(_ e: Expander, _ x: Value, _ scope: Scope, _ loc: SourceLocation, _: Bool) throws -> Node {
        guard x.cdr.isPair else { throw SchemeError.syntax("letrec: expected (letrec ((name value) …) body …)", at: loc, form: x) }
        let bindings = try e.parseBindings(x.cdr.car, loc, what: "letrec")
        let inner = Scope(parent: scope, lambda: scope.lambda)
        var vars: [Variable] = []
        var seen = Set<ObjectIdentifier>()
        for (name, _, _) in bindings {
            guard seen.insert(ObjectIdentifier(name)).inserted else {
                throw SchemeError.syntax("letrec: duplicate variable \(e.baseSymbol(name).name)", at: loc)
            }
            let v = scope.lambda.newVariable(e.baseSymbol(name))
            v.needsInitCheck = true
            v.isAssigned = true
            inner.bind(name, v)
            vars.append(v)
        }
        let inits = try bindings.map { try e.expandNamed($0.1, inner, e.locationOf($0.1, loc), name: e.baseSymbol($0.0).name) }
        let body = try e.expandBody(x.cdr.cdr, inner, loc, what: "letrec")
        return .letrec(vars, inits, body)
    }

    /// `(do ((var init step) …) (test result …) command …)` as a named let.
    static func expandDo(_ e: Expander, _ x: Value, _ scope: Scope, _ loc: SourceLocation, _: Bool) throws -> Node {
        let items = try e.shape(x, loc, min: 3, usage: "(do ((var init step) …) (test result …) command …)")
        let specs = try e.parseBindings(items[1], loc, what: "do")
        guard let exit = listToArray(items[2]), !exit.isEmpty else {
            throw SchemeError.syntax("do: expected (test result …) after the bindings", at: loc, form: x)
        }
        let loopName = e.interp.symbols.gensym("do-loop")
        let heap = e.interp
        var bindings = Value.null
        var steps = Value.null
        for (name, initial, step) in specs.reversed() {
            bindings = heap.cons(e.list(Value(object: name), initial), bindings)
            steps = heap.cons(step ?? Value(object: name), steps)
        }
        let recur = heap.cons(Value(object: loopName), steps)
        let commands = Array(items.dropFirst(3))
        var loopBody: [Value] = commands
        loopBody.append(recur)
        let results = exit.count > 1 ? Array(exit.dropFirst()) : [Value.unspecified]
        let body = e.list(e.sym.kIf, exit[0],
                          e.interp.list([Value(object: e.sym.kBegin)] + results),
                          e.interp.list([Value(object: e.sym.kBegin)] + loopBody))
        let form = e.list(e.sym.kLet, Value(object: loopName), bindings, body)
        return try e.expand(form, scope, loc)
    }

    static func expandCond(_ e: Expander, _ x: Value, _ scope: Scope, _ loc: SourceLocation, _: Bool) throws -> Node {
        guard let clauses = listToArray(x.cdr) else {
            throw SchemeError.syntax("cond: expected (cond (test body …) …)", at: loc, form: x)
        }
        if clauses.isEmpty { return .constant(.unspecified) }
        let first = clauses[0]
        let here = e.locationOf(first, loc)
        guard let parts = listToArray(first), !parts.isEmpty else {
            throw SchemeError.syntax("cond: bad clause \(e.interp.writeString(first))", at: here)
        }
        let rest = e.interp.cons(Value(object: e.sym.kCond), x.cdr.cdr)
        let isElse = e.isKeyword(parts[0], e.sym.else, scope)
        if isElse {
            guard clauses.count == 1 else { throw SchemeError.syntax("cond: else must be the last clause", at: here) }
            guard parts.count > 1 else { throw SchemeError.syntax("cond: else clause needs a body", at: here) }
            return try e.expand(e.interp.cons(Value(object: e.sym.kBegin), first.cdr), scope, here)
        }
        if parts.count == 1 {
            return try e.expand(e.list(e.sym.kOr, parts[0], rest), scope, here)
        }
        if e.isKeyword(parts[1], e.sym.arrow, scope) {
            guard parts.count == 3 else { throw SchemeError.syntax("cond: expected (test => receiver)", at: here) }
            let t = Value(object: e.interp.symbols.gensym("t"))
            let form = e.list(e.sym.kLet, e.list(e.list(t, parts[0])),
                              e.list(e.sym.kIf, t, e.list(parts[2], t), rest))
            return try e.expand(form, scope, here)
        }
        let body = e.interp.cons(Value(object: e.sym.kBegin), first.cdr)
        return try e.expand(e.list(e.sym.kIf, parts[0], body, rest), scope, here)
    }

    static func expandCase(_ e: Expander, _ x: Value, _ scope: Scope, _ loc: SourceLocation, _: Bool) throws -> Node {
        let items = try e.shape(x, loc, min: 2, usage: "(case key ((datum …) body …) …)")
        let key = Value(object: e.interp.symbols.gensym("key"))
        var chain = Value.unspecified
        for clause in items.dropFirst(2).reversed() {
            let here = e.locationOf(clause, loc)
            guard let parts = listToArray(clause), parts.count >= 2 else {
                throw SchemeError.syntax("case: bad clause \(e.interp.writeString(clause))", at: here)
            }
            let body: Value
            if e.isKeyword(parts[1], e.sym.arrow, scope) {
                guard parts.count == 3 else { throw SchemeError.syntax("case: expected (data => receiver)", at: here) }
                body = e.list(parts[2], key)
            } else {
                body = e.interp.cons(Value(object: e.sym.kBegin), clause.cdr)
            }
            if e.isKeyword(parts[0], e.sym.else, scope) {
                chain = body
                continue
            }
            guard listToArray(parts[0]) != nil else {
                throw SchemeError.syntax("case: clause must start with a list of data or else", at: here)
            }
            let test = e.list(e.interp.builtin("memv"), key, e.list(e.sym.kQuote, parts[0]))
            chain = e.list(e.sym.kIf, test, body, chain)
        }
        let form = e.list(e.sym.kLet, e.list(e.list(key, items[1])), chain)
        return try e.expand(form, scope, loc)
    }

    static func expandAnd(_ e: Expander, _ x: Value, _ scope: Scope, _ loc: SourceLocation, _: Bool) throws -> Node {
        guard let items = listToArray(x.cdr) else { throw SchemeError.syntax("and: improper list", at: loc, form: x) }
        if items.isEmpty { return .constant(.true) }
        var node = try e.expand(items[items.count - 1], scope, e.locationOf(items[items.count - 1], loc))
        for item in items.dropLast().reversed() {
            node = .if(try e.expand(item, scope, e.locationOf(item, loc)), node, .constant(.false))
        }
        return node
    }

    static func expandOr(_ e: Expander, _ x: Value, _ scope: Scope, _ loc: SourceLocation, _: Bool) throws -> Node {
        guard let items = listToArray(x.cdr) else { throw SchemeError.syntax("or: improper list", at: loc, form: x) }
        if items.isEmpty { return .constant(.false) }
        var node = try e.expand(items[items.count - 1], scope, e.locationOf(items[items.count - 1], loc))
        for item in items.dropLast().reversed() {
            let value = try e.expand(item, scope, e.locationOf(item, loc))
            let t = scope.lambda.newVariable(e.interp.symbols.gensym("or"))
            node = .bind([t], [value], .if(.local(t, loc), .local(t, loc), node))
        }
        return node
    }

    // MARK: Quasiquote

    /// Rewrites a quasiquote template into list-building code.
    func quasi(_ x: Value, depth: Int, _ scope: Scope, _ loc: SourceLocation) throws -> Value {
        // Deep templates (300,000 nested `( ) recurse here: an error, not a crash.
        if interp.stackGuard.isLow {
            throw SchemeError.syntax("quasiquote: the template is nested too deeply", at: loc)
        }
        if x.isPair {
            let here = locationOf(x, loc)
            if identifier(x.car) != nil, x.cdr.isPair, x.cdr.cdr.isNull {
                if isKeyword(x.car, sym.unquote, scope) {
                    if depth == 1 { return x.cdr.car }
                    return list(interp.builtin("list"), list(sym.kQuote, x.car), try quasi(x.cdr.car, depth: depth - 1, scope, here))
                }
                if isKeyword(x.car, sym.quasiquote, scope) {
                    return list(interp.builtin("list"), list(sym.kQuote, x.car), try quasi(x.cdr.car, depth: depth + 1, scope, here))
                }
            }
            if x.car.isPair, isKeyword(x.car.car, sym.unquoteSplicing, scope) {
                guard let parts = listToArray(x.car), parts.count == 2 else {
                    throw SchemeError.syntax("unquote-splicing: expected ,@expression", at: here)
                }
                let rest = try quasi(x.cdr, depth: depth, scope, here)
                if depth == 1 { return list(interp.builtin("append"), parts[1], rest) }
                let inner = list(interp.builtin("list"), list(sym.kQuote, parts[0]), try quasi(parts[1], depth: depth - 1, scope, here))
                return list(interp.builtin("cons"), inner, rest)
            }
            let a = try quasi(x.car, depth: depth, scope, here)
            let d = try quasi(x.cdr, depth: depth, scope, here)
            if isQuoted(a) && isQuoted(d) && a.cdr.car.raw == x.car.raw && d.cdr.car.raw == x.cdr.raw {
                return list(sym.kQuote, x)  // nothing unquoted inside: keep the literal
            }
            return list(interp.builtin("cons"), a, d)
        }
        if let vec = x.as(SchemeVector.self) {
            let asList = interp.list(vec.items)
            let built = try quasi(asList, depth: depth, scope, loc)
            if isQuoted(built) { return list(sym.kQuote, x) }
            return list(interp.builtin("list->vector"), built)
        }
        if x.isSymbol || x.isNull { return list(sym.kQuote, x) }
        return list(sym.kQuote, x)
    }

    private func isQuoted(_ v: Value) -> Bool {
        v.isPair && v.car.as(Symbol.self) === sym.kQuote
    }
}
