export { readHfConfig, parseHfConfig, readJsonObject, SUPPORTED_MODEL_TYPES, type HfArchConfig, type HfConfig, type HfModelType, type Llama3RopeScaling } from './config.js';
export { f32ToBf16Bits, bf16BitsToF32, f32ToF16Bits, f16BitsToF32, bytesToF32, f32ToBytes, SAFETENSORS_DTYPE, type HfDtype } from './dtype.js';
export {
  listHfTensors, readHfTensor, iterHfTensors, readSafetensorsHeader, writeHfWeights, SINGLE_FILE, INDEX_FILE,
  type HfTensor, type HfTensorInfo, type WriteHfWeightsOptions, type WrittenHfWeights,
} from './safetensors.js';
export { writePeftAdapter, readPeftAdapter, ADAPTER_CONFIG, ADAPTER_WEIGHTS, type PeftAdapter, type LoraFactors } from './peft.js';
export { makeTinyHfCheckpoint, makeTinyPeftAdapter, type TinyHfOptions, type TinyHfCheckpoint, type TinyModelType } from './tiny.js';
export { trainByteBpe, tinyTokenizerJson, bytesToUnicode, TINY_CORPUS, type TinyFamily } from './tinyTokenizer.js';
