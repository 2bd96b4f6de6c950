# kept so that runs saved before the move to compresslab.nets load
from compresslab.nets.rnnpool_backbones import densenet121 as densenet121
from compresslab.nets.rnnpool_backbones import efficientnet_b0 as efficientnet_b0
from compresslab.nets.rnnpool_backbones import googlenet as googlenet
from compresslab.nets.rnnpool_backbones import mobilenetv2 as mobilenetv2
from compresslab.nets.rnnpool_backbones import mobilenetv2_035_vww as mobilenetv2_035_vww
from compresslab.nets.rnnpool_backbones import resnet18 as resnet18
