/// A lexical scope during expansion: names bound by one binding form.
final class Scope {
    let parent: Scope?
    /// The lambda whose frame holds this scope's variables.
    let lambda: LambdaNode
    private var bindings: [ObjectIdentifier: Variable] = [:]

    init(parent: Scope?, lambda: LambdaNode) {
        self.parent = parent
        self.lambda = lambda
    }

    func bind(_ name: Symbol, _ v: Variable) { bindings[ObjectIdentifier(name)] = v }

    /// The innermost local binding of `name`, or nil when it is global.
    func lookup(_ name: Symbol) -> Variable? {
        var s: Scope? = self
        let id = ObjectIdentifier(name)
        while let scope = s {
            if let v = scope.bindings[id] { return v }
            s = scope.parent
        }
        return nil
    }
}
