extension ConvNeXtImport {
    /// The two ways ConvNeXt checkpoints name their parameters. Our graph uses timm's names;
    /// the original facebookresearch/ConvNeXt ones (models/convnext.py there) map one to one:
    ///
    ///     downsample_layers.0.0 / .0.1    stem.0 (conv) / stem.1 (LayerNorm)
    ///     downsample_layers.N.0 / .N.1    stages.N.downsample.0 (LayerNorm) / .1 (conv)
    ///     stages.N.M.dwconv               stages.N.blocks.M.conv_dw
    ///     stages.N.M.norm / .gamma        stages.N.blocks.M.norm / .gamma
    ///     stages.N.M.pwconv1 / pwconv2    stages.N.blocks.M.mlp.fc1 / mlp.fc2
    ///     norm                            head.norm
    ///     head                            head.fc
    ///
    /// Whether the MLP is stored as Linear [out, in] (both repositories' default) or as 1x1
    /// convolutions (timm's conv_mlp=True) is a layout, not a naming, question: the
    /// parameter source reshapes.
    public enum Naming: String, Sendable, Equatable, CaseIterable {
        case timm
        case facebook

        /// Tells the naming from the keys; throws when they show neither or both.
        public static func detect(_ keys: some Collection<String>, source: String) throws(CheckpointError) -> Naming {
            let facebook = keys.filter(isFacebookKey)
            let timm = keys.filter(isTimmKey)
            switch (facebook.isEmpty, timm.isEmpty) {
            case (false, true): return .facebook
            case (true, false): return .timm
            case (false, false):
                throw .file(source, "checkpoint mixes timm names ('\(timm.sorted()[0])') and facebookresearch/ConvNeXt names ('\(facebook.sorted()[0])')")
            case (true, true):
                let sample = keys.sorted().prefix(5).joined(separator: ", ")
                throw .file(source, "not a ConvNeXt checkpoint: no key has timm's (stem.*, stages.N.blocks.*) or facebookresearch's (downsample_layers.*, stages.N.M.dwconv) names (keys: \(sample)\(keys.count > 5 ? ", ..." : ""))")
            }
        }

        /// The timm (our graph's) name for a checkpoint key; keys it does not know stay as they are.
        public func timmName(_ key: String) -> String {
            guard self == .facebook else { return key }
            let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            func joined(_ head: [String], from index: Int) -> String { (head + parts[index...]).joined(separator: ".") }
            switch parts.first {
            case "downsample_layers" where parts.count >= 4 && Int(parts[1]) != nil && ["0", "1"].contains(parts[2]):
                return parts[1] == "0" ? joined(["stem", parts[2]], from: 3) : joined(["stages", parts[1], "downsample", parts[2]], from: 3)
            case "stages" where parts.count >= 4 && Int(parts[1]) != nil && Int(parts[2]) != nil:
                let layer = ["dwconv": "conv_dw", "pwconv1": "mlp.fc1", "pwconv2": "mlp.fc2"][parts[3]] ?? parts[3]
                return joined(["stages", parts[1], "blocks", parts[2], layer], from: 4)
            case "norm": return joined(["head", "norm"], from: 1)
            case "head" where parts.count == 2: return joined(["head", "fc"], from: 1)
            default: return key
            }
        }

        private static func isFacebookKey(_ key: String) -> Bool {
            if key.hasPrefix("downsample_layers.") { return true }
            let parts = key.split(separator: ".")
            return parts.count >= 4 && parts[0] == "stages" && Int(parts[1]) != nil && Int(parts[2]) != nil
        }

        private static func isTimmKey(_ key: String) -> Bool {
            key.hasPrefix("stem.") || key.hasPrefix("head.fc.") || key.hasPrefix("head.norm.")
                || (key.hasPrefix("stages.") && (key.contains(".blocks.") || key.contains(".downsample.")))
        }
    }
}
