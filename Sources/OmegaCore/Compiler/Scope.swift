/// A lexical scope during expansion: the identifiers bound by one binding
/// form. Identifiers are symbols or, inside macro expansions, `Alias`es;
/// bindings are keyed by the identifier object itself, so a binding made
/// for a renamed identifier never captures the user's symbol of that name.
final class Scope {
    let parent: Scope?
    /// The lambda whose frame holds this scope's variables.
    let lambda: LambdaNode
    private var bindings: [ObjectIdentifier: Binding] = [:]

    init(parent: Scope?, lambda: LambdaNode) {
        self.parent = parent
        self.lambda = lambda
    }

    /// What an identifier is bound to locally.
    enum Binding {
        case variable(Variable)
        /// The name of a named-let loop compiled as a jump (see `LoopLabel`).
        case loop(LoopLabel)
        /// A local macro (let-syntax, letrec-syntax, internal define-syntax).
        case macro(Macro)
    }

    func bind(_ id: HeapObject, _ v: Variable) { bindings[ObjectIdentifier(id)] = .variable(v) }
    func bind(_ id: HeapObject, loop: LoopLabel) { bindings[ObjectIdentifier(id)] = .loop(loop) }
    func bind(_ id: HeapObject, macro: Macro) { bindings[ObjectIdentifier(id)] = .macro(macro) }

    /// The innermost local binding of exactly this identifier object.
    func binding(of id: HeapObject) -> Binding? {
        var s: Scope? = self
        let key = ObjectIdentifier(id)
        while let scope = s {
            if let b = scope.bindings[key] { return b }
            s = scope.parent
        }
        return nil
    }
}
