# kept so that runs saved before the move to compresslab.nets load
from compresslab.nets.cifar import CifarResNet as CifarResNet
from compresslab.nets.cifar import WideResNet as WideResNet
from compresslab.nets.cifar import build_net as build_net
from compresslab.nets.cifar import cifar_mobilenetv2 as mobilenetv2  # noqa: F401
from compresslab.nets.small import MLP as MLPNet  # noqa: F401
