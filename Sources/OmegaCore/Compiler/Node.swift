/// The compiler's intermediate form: syntax with every special form expanded
/// and every variable resolved, ready for code generation.
indirect enum Node {
    case constant(Value)
    case local(Variable, SourceLocation)
    case global(GlobalCell, SourceLocation)
    case setLocal(Variable, Node)
    case setGlobal(GlobalCell, Node, SourceLocation)
    case defineGlobal(GlobalCell, Node)
    case `if`(Node, Node, Node)
    case lambda(LambdaNode)
    case sequence([Node])
    case call(Node, [Node], SourceLocation)
    /// `let`: evaluate the inits (which cannot see the variables), bind the
    /// variables in fresh slots of the current frame, run the body.
    case bind([Variable], [Node], Node)
    /// `letrec*`: bind the variables (uninitialised), then evaluate and assign
    /// each init in order, then run the body.
    case letrec([Variable], [Node], Node)
    /// A named `let` whose name is only called in tail position: the
    /// variables are slots of the current frame and each call is a jump.
    case loop(LoopLabel, [Node], Node)
    /// A tail call of a loop's name: assign the variables and jump back.
    case loopCall(LoopLabel, [Node], SourceLocation)
}

/// The name of a named-`let` loop compiled in place (no closure).
final class LoopLabel {
    let name: Symbol
    /// The lambda whose frame holds the loop variables.
    unowned let owner: LambdaNode
    let variables: [Variable]
    /// Code offset of the loop's start, set by the code generator.
    var start = -1

    init(name: Symbol, owner: LambdaNode, variables: [Variable]) {
        self.name = name
        self.owner = owner
        self.variables = variables
    }
}

/// Thrown while expanding a named let optimistically as a loop when the
/// loop's name is used in a way a jump cannot serve; the expander then
/// compiles it as a procedure.
struct NotASimpleLoop: Error {}

/// A local variable: a parameter or a `let`/`letrec`/internal-define binding.
final class Variable {
    let name: Symbol
    /// The lambda whose frame holds the variable.
    unowned let owner: LambdaNode
    /// Frame slot (index from fp).
    var slot: Int
    /// Assigned by `set!` (or by letrec initialisation).
    var isAssigned = false
    /// Referenced from a lambda other than its owner.
    var isCaptured = false
    /// Bound by letrec: reads before initialisation are errors.
    var needsInitCheck = false

    init(name: Symbol, owner: LambdaNode, slot: Int) {
        self.name = name
        self.owner = owner
        self.slot = slot
    }

    /// Changed by an explicit `set!` (not only initialised by letrec).
    var isMutated = false

    /// A variable is a location. Captured and assigned variables, and every
    /// variable a `set!` changes, live in a `Box`: every closure and the frame
    /// see the same location, and so does a continuation re-entered after
    /// the `set!` (it restores the frame's slots, which hold the box, not the
    /// value). Variables only initialised once stay in their slot.
    var isBoxed: Bool { isMutated || (isAssigned && isCaptured) }
}

/// A lambda being compiled: its parameters, body, free variables and the
/// frame slots it needs.
final class LambdaNode {
    let parent: LambdaNode?
    var params: [Variable] = []
    var rest: Variable?
    var body: Node = .constant(.unspecified)
    var name: String
    let location: SourceLocation
    /// Variables of enclosing lambdas this lambda refers to, in closure order.
    private(set) var freeVariables: [Variable] = []
    private var freeIndex: [ObjectIdentifier: Int] = [:]
    /// Frame slots used so far.
    private(set) var slotCount = 0

    init(parent: LambdaNode?, name: String, location: SourceLocation) {
        self.parent = parent
        self.name = name
        self.location = location
    }

    func newVariable(_ name: Symbol) -> Variable {
        let v = Variable(name: name, owner: self, slot: slotCount)
        slotCount += 1
        return v
    }

    /// The index of `v` among this lambda's free variables, adding it.
    @discardableResult
    func freeSlot(of v: Variable) -> Int {
        let id = ObjectIdentifier(v)
        if let i = freeIndex[id] { return i }
        freeVariables.append(v)
        freeIndex[id] = freeVariables.count - 1
        return freeVariables.count - 1
    }

    func existingFreeSlot(of v: Variable) -> Int? { freeIndex[ObjectIdentifier(v)] }
}
