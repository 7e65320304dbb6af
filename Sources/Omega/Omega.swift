// The umbrella module: `import Omega` gives a host both halves — the Scheme
// engine (`OmegaCore`) and the model runtime that attaches to it
// (`OmegaModels`). A host that wants only Scheme imports `OmegaCore` alone.
@_exported import OmegaCore
@_exported import OmegaModels
