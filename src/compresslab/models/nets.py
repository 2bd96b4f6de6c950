# kept so that runs saved before the move to compresslab.nets load
from compresslab.nets.small import MLP as MLP
from compresslab.nets.small import ConvNet as ConvNet
