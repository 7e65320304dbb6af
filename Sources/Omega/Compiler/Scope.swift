/// A lexical scope during expansion: names bound by one binding form.
final class Scope {
    let parent: Scope?
    /// The lambda whose frame holds this scope's variables.
    let lambda: LambdaNode
    private var bindings: [ObjectIdentifier: Binding] = [:]

    /// What a name is bound to locally.
    enum Binding {
        case variable(Variable)
        /// The name of a named-let loop compiled as a jump (see `LoopLabel`).
        case loop(LoopLabel)
    }

    init(parent: Scope?, lambda: LambdaNode) {
        self.parent = parent
        self.lambda = lambda
    }

    func bind(_ name: Symbol, _ v: Variable) { bindings[ObjectIdentifier(name)] = .variable(v) }
    func bind(_ name: Symbol, loop: LoopLabel) { bindings[ObjectIdentifier(name)] = .loop(loop) }

    /// The innermost local binding of `name`, or nil when it is global.
    func binding(of name: Symbol) -> Binding? {
        var s: Scope? = self
        let id = ObjectIdentifier(name)
        while let scope = s {
            if let b = scope.bindings[id] { return b }
            s = scope.parent
        }
        return nil
    }

    /// The local variable `name` is bound to, or nil.
    func lookup(_ name: Symbol) -> Variable? {
        if case .variable(let v)? = binding(of: name) { return v }
        return nil
    }

    /// Whether `name` has any local binding (and so shadows a keyword).
    func isBound(_ name: Symbol) -> Bool { binding(of: name) != nil }
}
