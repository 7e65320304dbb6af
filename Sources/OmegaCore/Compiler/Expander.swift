/// Turns data (what the reader produced) into `Node`s: recognises special
/// forms, expands derived forms, and resolves every variable to a frame slot,
/// a closure slot or a global cell.
final class Expander {
    unowned let interp: Interpreter
    let sym: Syms
    private var depth = 0
    /// Nesting depth beyond which expressions are rejected (keeps the
    /// recursive expander well inside the thread's stack).
    static let maxDepth = 2_000

    typealias SpecialForm = (Expander, Value, Scope, SourceLocation, Bool) throws -> Node
    /// Special forms by keyword symbol, with the keyword they stand for
    /// (private aliases stand for a public keyword).
    var specialForms: [ObjectIdentifier: (keyword: Symbol, form: SpecialForm)] = [:]
    /// The top-level environment the code being compiled belongs to (see
    /// `GlobalEnvironment`): the system one while the standard library
    /// loads, then the user's.
    var environment: GlobalEnvironment
    /// Libraries made by define-library, by name in write form.
    var libraries: [String: Library] = [:]
    /// Steps of expansion work; every 1,024th runs `safePoint`.
    private var work = 0
    /// The heap's allocation count when the current top-level form began.
    private var allocatedAtStart = 0
    /// Expressions expanded, and their count when the current form began.
    private var expressions = 0, expressionsAtStart = 0
    /// What the compiled form of one expression costs in Swift memory
    /// (its node and its share of the code), roughly: code counts against
    /// the memory limit too, or a form whose expansion is a DAG (a macro
    /// that doubles a shared argument) could fill the machine's memory.
    static let bytesPerExpression = 128

    init(interp: Interpreter) {
        self.interp = interp
        self.sym = interp.syms
        self.environment = interp.systemEnvironment
        registerCoreForms()
        registerDerivedForms()
        registerMacroForms()
    }


    func special(_ name: Symbol, _ form: @escaping SpecialForm) {
        specialForms[ObjectIdentifier(name)] = (name, form)
    }

    /// Makes `alias` a second name of the special form `name`.
    func specialAlias(_ alias: Symbol, for name: Symbol) {
        if let f = specialForms[ObjectIdentifier(name)] { specialForms[ObjectIdentifier(alias)] = f }
    }

    /// Whether `name` names a special form or macro at the top level.
    func isSpecialForm(_ name: Symbol) -> Bool {
        specialForms[ObjectIdentifier(name)] != nil || environment.macros[ObjectIdentifier(name)] != nil
    }

    // MARK: Identifiers

    /// What an identifier means in a scope.
    enum Resolved {
        case local(Variable)
        case loop(LoopLabel)
        case macro(Macro)
        case special(Symbol, SpecialForm)
        case global(Symbol, GlobalEnvironment)
    }

    /// Resolves an identifier: its local binding, else — for an alias — what
    /// its name means where the macro was defined, else the top level.
    func resolve(_ id: HeapObject, _ scope: Scope?) -> Resolved { resolve(id, scope, environment) }

    func resolve(_ id: HeapObject, _ scope: Scope?, _ globals: GlobalEnvironment) -> Resolved {
        if let b = scope?.binding(of: id) {
            switch b {
            case .variable(let v): return .local(v)
            case .loop(let l): return .loop(l)
            case .macro(let m): return .macro(m)
            }
        }
        if let alias = id as? Alias {
            if let renamed = alias.topLevelName { return .global(renamed, globals) }
            return resolve(alias.name, alias.env, alias.globals)
        }
        let name = baseSymbol(id)
        if let m = globals.macros[ObjectIdentifier(name)] { return .macro(m) }
        if let f = specialForms[ObjectIdentifier(name)] { return .special(f.keyword, f.form) }
        return .global(name, globals)
    }

    /// Whether `v` is an identifier meaning the top-level keyword `keyword`
    /// (`else`, `=>`, `define` …) in `scope`.
    func isKeyword(_ v: Value, _ keyword: Symbol, _ scope: Scope) -> Bool {
        guard let id = identifier(v) else { return false }
        switch resolve(id, scope) {
        case .special(let k, _): return k === keyword
        case .global(let s, _): return s === keyword
        default: return false
        }
    }

    // MARK: Entry

    /// Compiles one top-level form into a lambda of no arguments.
    func expandToplevel(_ form: Value) throws -> LambdaNode {
        allocatedAtStart = interp.heap.allocatedSinceCollection
        expressionsAtStart = expressions
        let lambda = LambdaNode(parent: nil, name: "top level", location: locationOf(form, .none))
        let scope = Scope(parent: nil, lambda: lambda)
        lambda.body = try expand(form, scope, locationOf(form, .none), toplevel: true)
        return lambda
    }

    // MARK: Safe points

    /// Counts a step of expansion work (an expression, a macro use, a
    /// pattern or template part) and now and then checks on the expansion.
    @inline(__always) func tick() throws {
        work &+= 1
        if work & 1023 == 0 { try safePoint() }
    }

    /// Expanding makes no procedure calls, so the VM's safe points never
    /// come while a macro loops or a form doubles at each expansion: the
    /// expander checks the interrupt, the time limit and memory itself.
    /// (Its data cannot be collected meanwhile: nothing roots it.)
    private func safePoint() throws {
        try interp.vm.compilerSafePoint()
        let heap = interp.heap
        let code = (expressions &- expressionsAtStart) &* Expander.bytesPerExpression
        let grown = max(0, heap.allocatedSinceCollection &- allocatedAtStart) &+ max(0, code)
        if heap.liveBytes &+ grown > heap.limit {
            throw SchemeError.outOfMemory("compiling this form (its macro expansions and code)", bytes: grown, limit: heap.limit)
        }
    }

    // MARK: Expressions

    func expand(_ x: Value, _ scope: Scope, _ loc: SourceLocation, toplevel: Bool = false) throws -> Node {
        if x.isPair {
            let here = locationOf(x, loc)
            expressions &+= 1
            try tick()
            depth += 1
            defer { depth -= 1 }
            if depth > Expander.maxDepth || interp.stackGuard.isLow {
                throw SchemeError.syntax("expression nested deeper than \(Expander.maxDepth) levels", at: here)
            }
            if let head = identifier(x.car) {
                switch resolve(head, scope) {
                case .special(_, let form):
                    return try form(self, x, scope, here, toplevel)
                case .macro(let m):
                    let expansion = try transcribe(m, x, scope, here)
                    return try expand(expansion, scope, here, toplevel: toplevel)
                case .loop(let label):
                    return try expandLoopCall(label, x, scope, here)
                default:
                    break
                }
            }
            return try expandCall(x, scope, here)
        }
        if let id = identifier(x) {
            return try reference(id, scope, loc)
        }
        if x.isNull {
            throw SchemeError.syntax("empty combination () is not an expression; quote it: '()", at: loc)
        }
        return .constant(stripSyntax(x))
    }

    func expandCall(_ x: Value, _ scope: Scope, _ loc: SourceLocation) throws -> Node {
        guard let items = listToArray(x) else {
            throw SchemeError.syntax("improper list in a procedure call", at: loc, form: x)
        }
        let f = try expand(items[0], scope, loc)
        var args: [Node] = []
        args.reserveCapacity(items.count - 1)
        for a in items.dropFirst() { args.append(try expand(a, scope, locationOf(a, loc))) }
        return .call(f, args, loc)
    }

    /// A call of a loop's name from its own frame, with the right argument
    /// count, can be a jump (if it turns out to be a tail call).
    private func expandLoopCall(_ label: LoopLabel, _ x: Value, _ scope: Scope, _ loc: SourceLocation) throws -> Node {
        guard let items = listToArray(x), label.owner === scope.lambda,
              label.variables.count == items.count - 1 else { throw NotASimpleLoop() }
        var args: [Node] = []
        for a in items.dropFirst() { args.append(try expand(a, scope, locationOf(a, loc))) }
        return .loopCall(label, args, loc)
    }

    /// A variable reference, recording captures for closure conversion.
    func reference(_ id: HeapObject, _ scope: Scope, _ loc: SourceLocation) throws -> Node {
        switch resolve(id, scope) {
        case .local(let v):
            capture(v, from: scope.lambda)
            return .local(v, loc)
        case .loop:
            throw NotASimpleLoop()  // the loop procedure escapes as a value
        case .macro(let m):
            throw SchemeError.syntax("\(m.name) is a macro; it cannot be used as a variable", at: loc)
        case .special(let k, _):
            throw SchemeError.syntax("\(k.name) is a keyword; it cannot be used as a variable", at: loc)
        case .global(let name, let globals):
            return .global(globals.cell(for: name), loc)
        }
    }

    /// Notes that `lambda` refers to `v`: every lambda from `lambda` out to
    /// the variable's owner gets it as a free variable.
    func capture(_ v: Variable, from lambda: LambdaNode) {
        if v.owner === lambda { return }
        v.isCaptured = true
        var l: LambdaNode? = lambda
        while let cur = l, cur !== v.owner {
            cur.freeSlot(of: v)
            l = cur.parent
        }
    }

    /// Assignment target: a local (marked assigned) or a global cell.
    func assign(_ id: HeapObject, _ value: Node, _ scope: Scope, _ loc: SourceLocation) throws -> Node {
        switch resolve(id, scope) {
        case .local(let v):
            capture(v, from: scope.lambda)
            v.isAssigned = true
            v.isMutated = true
            return .setLocal(v, value)
        case .loop:
            throw NotASimpleLoop()
        case .global(let name, let globals):
            return .setGlobal(globals.cell(for: name), value, loc)
        case .macro, .special:
            throw SchemeError.syntax("set!: cannot assign to the keyword \(baseSymbol(id).name)", at: loc)
        }
    }

    // MARK: Lambda and bodies

    /// Expands a lambda list and body into a new `LambdaNode`.
    func expandLambda(_ params: Value, _ body: Value, _ scope: Scope, name: String,
                      _ loc: SourceLocation) throws -> LambdaNode {
        let lam = LambdaNode(parent: scope.lambda, name: name, location: loc)
        let inner = Scope(parent: scope, lambda: lam)
        var seen = Set<ObjectIdentifier>()
        func bindParam(_ v: Value) throws -> Variable {
            guard let id = identifier(v) else {
                throw SchemeError.syntax("lambda: parameter must be a symbol, got \(interp.writeString(v))", at: loc)
            }
            guard seen.insert(ObjectIdentifier(id)).inserted else {
                throw SchemeError.syntax("lambda: duplicate parameter \(baseSymbol(id).name)", at: loc)
            }
            let variable = lam.newVariable(baseSymbol(id))
            inner.bind(id, variable)
            return variable
        }
        var walk = ListWalk(params)
        while let p = walk.next() { lam.params.append(try bindParam(p.car)) }
        if walk.isCircular { throw SchemeError.syntax("lambda: circular parameter list", at: loc) }
        if !walk.rest.isNull { lam.rest = try bindParam(walk.rest) }
        lam.body = try expandBody(body, inner, loc, what: "lambda")
        return lam
    }

    /// Expands a body: internal definitions become letrec* bindings; the
    /// value is that of the last expression.
    func expandBody(_ body: Value, _ scope: Scope, _ loc: SourceLocation, what: String) throws -> Node {
        // Internal define-syntax binds in a scope of the body's own.
        let bodyScope = Scope(parent: scope, lambda: scope.lambda)
        var forms: [Value] = []
        try flattenBody(body, bodyScope, into: &forms, loc)
        if forms.isEmpty {
            throw SchemeError.syntax("\(what): empty body", at: loc)
        }
        // Find the definitions.
        var defined: [(name: HeapObject, value: Value, loc: SourceLocation)?] = []
        var anyDefinition = false
        for f in forms {
            if let d = try parseDefinition(f, bodyScope, loc) {
                defined.append(d)
                anyDefinition = true
            } else {
                defined.append(nil)
            }
        }
        if !anyDefinition {
            if forms.count == 1 { return try expand(forms[0], bodyScope, locationOf(forms[0], loc)) }
            return .sequence(try forms.map { try expand($0, bodyScope, locationOf($0, loc)) })
        }
        // letrec*: bind every defined name first, then run the body in order.
        let inner = Scope(parent: bodyScope, lambda: scope.lambda)
        var vars: [Variable] = []
        var seen = Set<ObjectIdentifier>()
        for case let d? in defined {
            guard seen.insert(ObjectIdentifier(d.name)).inserted else {
                throw SchemeError.syntax("duplicate definition of \(baseSymbol(d.name).name) in a body", at: d.loc)
            }
            let v = scope.lambda.newVariable(baseSymbol(d.name))
            v.needsInitCheck = true
            inner.bind(d.name, v)
            vars.append(v)
        }
        var items: [Node] = []
        var nextVar = 0
        for (i, f) in forms.enumerated() {
            if let d = defined[i] {
                let v = vars[nextVar]
                nextVar += 1
                let value = try expandNamed(d.value, inner, d.loc, name: baseSymbol(d.name).name)
                v.isAssigned = true
                items.append(.setLocal(v, value))
            } else {
                items.append(try expand(f, inner, locationOf(f, loc)))
            }
        }
        if case .some(.some) = defined.last { items.append(.constant(.unspecified)) }
        return .letrec(vars, [], .sequence(items))
    }

    /// The body's forms with `(begin …)` spliced in, macro uses expanded far
    /// enough to see whether they are definitions, and internal
    /// `define-syntax` forms bound in `scope`.
    private func flattenBody(_ body: Value, _ scope: Scope, into out: inout [Value], _ loc: SourceLocation) throws {
        guard var pending = listToArray(body) else { throw SchemeError.syntax("improper body", at: loc) }
        pending.reverse()
        var expansions = 0
        while let f = pending.popLast() {
            guard f.isPair, let head = identifier(f.car) else { out.append(f); continue }
            switch resolve(head, scope) {
            case .special(let k, _) where k === sym.begin:
                guard let items = listToArray(f.cdr) else { throw SchemeError.syntax("begin: improper list", at: locationOf(f, loc)) }
                pending.append(contentsOf: items.reversed())
            case .special(let k, _) where k === sym.defineSyntax:
                try defineSyntax(f, scope, locationOf(f, loc), toplevel: false)
            case .macro(let m):
                expansions += 1
                if expansions > 100_000 { throw SchemeError.syntax("\(m.name): macro expansion does not terminate", at: loc) }
                pending.append(try transcribe(m, f, scope, locationOf(f, loc)))
            default:
                out.append(f)
            }
        }
    }

    /// `(define …)` as (name, value expression), or nil when `form` is not a
    /// definition.
    func parseDefinition(_ form: Value, _ scope: Scope, _ loc: SourceLocation) throws
        -> (name: HeapObject, value: Value, loc: SourceLocation)? {
        guard form.isPair, isKeyword(form.car, sym.define, scope) else { return nil }
        let here = locationOf(form, loc)
        guard let items = listToArray(form), items.count >= 2 else {
            throw SchemeError.syntax("define: expected (define name value) or (define (name . params) body …)", at: here, form: form)
        }
        var target = items[1]
        if let name = identifier(target) {
            guard items.count <= 3 else {
                throw SchemeError.syntax("define: too many expressions for \(baseSymbol(name).name)", at: here, form: form)
            }
            return (name, items.count == 3 ? items[2] : list(sym.kQuote, .unspecified), here)
        }
        // (define (name . params) body …), also curried: (define ((name a) b) …)
        var body = form.cdr.cdr
        var nesting = 0
        while target.isPair {
            nesting += 1
            if nesting > Expander.maxDepth {
                throw SchemeError.syntax("define: the name is nested deeper than \(Expander.maxDepth) levels", at: here)
            }
            let params = target.cdr
            body = list(sym.kLambda, params).appendingList(body, heap: interp.heap, location: here)
            target = target.car
            if let name = identifier(target) {
                guard items.count >= 3 else {
                    throw SchemeError.syntax("define: \(baseSymbol(name).name) has no body", at: here, form: form)
                }
                return (name, body, here)
            }
            body = list(body)
        }
        throw SchemeError.syntax("define: cannot define \(interp.writeString(target))", at: here, form: form)
    }

    /// Expands an expression; a lambda gets `name` for backtraces.
    func expandNamed(_ x: Value, _ scope: Scope, _ loc: SourceLocation, name: String) throws -> Node {
        let node = try expand(x, scope, loc)
        if case .lambda(let lam) = node, lam.name.isEmpty { lam.name = name }
        return node
    }

    // MARK: Data helpers

    func locationOf(_ x: Value, _ fallback: SourceLocation) -> SourceLocation {
        if x.isPair {
            let l = x.pair.location
            if l.isKnown { return l }
        }
        return fallback
    }

    func list(_ items: Value...) -> Value {
        var r = Value.null
        for v in items.reversed() { r = interp.cons(v, r) }
        return r
    }

    func list(_ a: Symbol, _ rest: Value...) -> Value {
        var r = Value.null
        for v in rest.reversed() { r = interp.cons(v, r) }
        return interp.cons(Value(object: a), r)
    }
}

extension Value {
    /// This (proper) list with `tail` appended, sharing `tail`.
    func appendingList(_ tail: Value, heap: Heap, location: SourceLocation) -> Value {
        guard let items = listToArray(self) else { return self }
        var r = tail
        for v in items.reversed() { r = heap.locatedPair(v, r, location: location) }
        return r
    }
}

/// The number of elements of a proper list, or nil for an improper or
/// circular one; counts without copying the elements.
func properListLength(_ v: Value) -> Int? {
    var walk = ListWalk(v)
    var count = 0
    while walk.next() != nil { count += 1 }
    return walk.endedProperly ? count : nil
}

/// The elements of a proper list, or nil for an improper or circular one.
func listToArray(_ v: Value) -> [Value]? {
    var out: [Value] = []
    var walk = ListWalk(v)
    while let p = walk.next() { out.append(p.car) }
    return walk.endedProperly ? out : nil
}
