/// The VM's instruction set.
///
/// An instruction is one 32-bit word: opcode in the low 8 bits, operand `A`
/// in the high 24 bits. `CLOSURE` is followed by more operand words.
///
/// The machine is an accumulator machine with a value stack:
/// - `acc` holds the value of the last expression;
/// - arguments are pushed on the stack, the procedure is evaluated last into
///   `acc`, then `CALL n` / `TAILCALL n` transfers control;
/// - a frame's parameters and `let` locals live in stack slots addressed
///   from the frame pointer `fp`.
///
/// Frame layout (the stack grows upwards):
/// ```
///            ┌────────────────────┐
///   fp - 3   │ return pc          │  fixnum-tagged code address in the caller
///   fp - 2   │ caller's fp        │  fixnum
///   fp - 1   │ caller's closure   │  the caller's code and free variables
///            ├────────────────────┤
///   fp + 0   │ argument 0         │
///   …        │ …                  │
///            │ rest list          │  when the lambda has a rest parameter
///            │ let locals …       │  up to fp + frameSize
///            ├────────────────────┤
///            │ temporaries …      │  pushed arguments of calls in progress
///   sp  →    └────────────────────┘
/// ```
/// `FRAME` pushes the three-word header before the arguments of a non-tail
/// call; `RETURN` pops the frame and restores the caller from the header.
/// A tail call moves the new arguments down to `fp` and keeps the header,
/// so a loop written as tail recursion runs in constant stack.
///
/// Every slot below `sp` is a valid value, so the garbage collector scans the
/// stack as it is, and `call/cc` can copy it.
enum Opcode: UInt8 {
    /// Return `acc` from the current `VM.run`.
    case halt = 0
    /// acc = constants[A]
    case const
    /// acc = fp[A]
    case local
    /// acc = (fp[A] as Box).value
    case localBox
    /// acc = free[A]
    case free
    /// acc = (free[A] as Box).value
    case freeBox
    /// acc = value of the global cell constants[A]; error if unbound.
    case global
    /// fp[A] = acc
    case setLocal
    /// (fp[A] as Box).value = acc
    case setLocalBox
    /// (free[A] as Box).value = acc
    case setFreeBox
    /// cell constants[A] = acc; error if unbound.
    case setGlobal
    /// cell constants[A] = acc, binding it if needed.
    case defineGlobal
    /// fp[A] = Box(fp[A])
    case makeBox
    /// push acc
    case push
    /// pc += A. Jump operands (here and in `JUMPIFFALSE`, `LOOPJUMP`,
    /// `FRAME`) are signed offsets from the instruction after the jump, so
    /// the dispatch loop needs no code base.
    case jump
    /// if acc is #f { pc += A }
    case jumpIfFalse
    /// acc = closure of template constants[A]; the next word is the number
    /// of free variables n, then n words each naming where a free value comes
    /// from: bit 31 set = the current closure's free[i], clear = fp[i].
    case closure
    /// Push a call frame header returning to pc + A.
    case frame
    /// Call acc with the A arguments on top of the stack.
    case call
    /// Tail call acc with the A arguments on top of the stack.
    case tailCall
    /// Return acc to the caller.
    case `return`
    /// acc = fp[A]; error if the letrec variable is not yet initialised.
    case localChecked
    /// acc = (fp[A] as Box).value, checked as `localChecked`.
    case localBoxChecked
    /// acc = (free[A] as Box).value, checked as `localChecked`.
    case freeBoxChecked
    /// sp -= A (discard temporaries)
    case drop
    /// fp[A] = pop
    case popLocal
    /// pc += A (backwards), counting as a call for the step limit and safe points (the
    /// back edge of a named-let loop compiled in place).
    case loopJump

    // Inlined primitives. Two-argument forms take the first argument from
    // the stack top and the second from acc; one-argument forms take acc.
    // The low 16 bits of A = constants index of the global cell the
    // primitive came from: when the cell no longer holds the built-in, or
    // the fast path does not apply, the instruction calls whatever the cell
    // holds. The high 8 bits name the operand taken in acc: 0 for acc as it
    // is, s + 1 to load the local fp[s] into acc first — `(car l)`,
    // `(< i n)` of locals without a `LOCAL` dispatched before.
    case add, sub, mul, numEq, lt, le, gt, ge
    case cons, eq
    case car, cdr, isNull, isPair, not, isZero
    case vectorRef

    // Superinstructions: common pairs fused to save a dispatch.
    /// push fp[A]
    case pushLocal
    /// push constants[A]
    case pushConst
    // Arithmetic and comparison with a small integer constant as second
    // operand: acc = x OP imm. A = the global cell and x (acc or a local),
    // as for the inlined forms above; the next word is the constant as an
    // Int32.
    case addImm, subImm, numEqImm, ltImm, leImm, gtImm, geImm
    /// Call (tail call) the value of a global cell: `GLOBAL` and `CALL` in
    /// one dispatch. A = constants index of the cell << 8 | argument count
    /// (emitted when the index is below 65,536 and the count below 256).
    /// `CALLGLOBAL` has no `FRAME` before its arguments: it moves them up
    /// three slots and writes the frame header below them itself (cheaper
    /// than a dispatch for the usual few arguments).
    case callGlobal, tailCallGlobal
    /// `ADDIMM`/`SUBIMM` whose result is pushed: the fast path pushes and
    /// skips the `PUSH` that follows; the slow path (which may call a
    /// redefined `+`) returns to that `PUSH`.
    case addImmPush, subImmPush
    /// acc = fp[A], then `RETURN`: a procedure whose value is a parameter.
    case returnLocal
    /// push fp[A & 0xFFF], then push fp[A >> 12]: two locals as arguments.
    case pushLocal2
    /// A comparison (`<`, `<=`, `>`, `>=`, `=`, `eq?`) of two locals:
    /// A = slot x | slot y << 8 | the comparison's opcode << 16; the next
    /// word is the constants index of its global cell. The slow path pushes
    /// x, loads y into acc and goes on as the comparison.
    case compareLocals
}

extension Opcode {
    /// The two-operand opcode an immediate form stands for.
    var withoutImmediate: Opcode? {
        switch self {
        case .addImm, .addImmPush: return .add
        case .subImm, .subImmPush: return .sub
        case .numEqImm: return .numEq
        case .ltImm: return .lt
        case .leImm: return .le
        case .gtImm: return .gt
        case .geImm: return .ge
        default: return nil
        }
    }

    /// The immediate form of a two-operand opcode, if it has one.
    var immediateForm: Opcode? {
        switch self {
        case .add: return .addImm
        case .sub: return .subImm
        case .numEq: return .numEqImm
        case .lt: return .ltImm
        case .le: return .leImm
        case .gt: return .gtImm
        case .ge: return .geImm
        default: return nil
        }
    }

    /// Number of arguments of an inlined primitive opcode (0 for others).
    var inlineArity: Int {
        switch self {
        case .add, .sub, .mul, .numEq, .lt, .le, .gt, .ge, .cons, .eq, .vectorRef: return 2
        case .car, .cdr, .isNull, .isPair, .not, .isZero: return 1
        default: return 0
        }
    }

    /// The opcode that inlines the named primitive for `argc` arguments.
    static func inlined(name: String, argc: Int) -> Opcode? {
        switch (name, argc) {
        case ("+", 2): return .add
        case ("-", 2): return .sub
        case ("*", 2): return .mul
        case ("=", 2): return .numEq
        case ("<", 2): return .lt
        case ("<=", 2): return .le
        case (">", 2): return .gt
        case (">=", 2): return .ge
        case ("cons", 2): return .cons
        case ("eq?", 2): return .eq
        case ("vector-ref", 2): return .vectorRef
        case ("car", 1): return .car
        case ("cdr", 1): return .cdr
        case ("null?", 1): return .isNull
        case ("pair?", 1): return .isPair
        case ("not", 1): return .not
        case ("zero?", 1): return .isZero
        default: return nil
        }
    }
}

/// Packs an instruction word.
@inline(__always) func instruction(_ op: Opcode, _ a: Int = 0) -> UInt32 {
    UInt32(op.rawValue) | (UInt32(truncatingIfNeeded: a) << 8)
}

extension Opcode {
    /// Whether some call of the named built-in compiles to an instruction.
    static func isInlinable(_ name: String) -> Bool {
        inlined(name: name, argc: 1) != nil || inlined(name: name, argc: 2) != nil
    }
}
