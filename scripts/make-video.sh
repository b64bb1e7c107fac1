#!/usr/bin/env bash
# Draws fixtures/video/liveness.mp4: a 3-second, 320x240 test pattern of a face turning its head,
# H.264 baseline with the index up front, so that every player (and a browser) plays it.
# Needs Debian's ffmpeg. The output is committed; run this only to change it.
set -euo pipefail
cd "$(dirname "$0")/.."
cx='(W/2+28*sin(2*PI*T/3))'
face="lte(pow((X-$cx)/55,2)+pow((Y-118)/72,2),1)"
eye="lte(min(pow((X-$cx+20)/8,2),pow((X-$cx-20)/8,2))+pow((Y-104)/5,2),1)"
mouth="lt(abs(Y-150),3)*lt(abs(X-$cx),18)"
guide="lt(abs(pow((X-W/2)/75,2)+pow((Y-118)/95,2)-1),0.04)*lt(mod(floor(atan2(Y-118,X-W/2)*12),2),1)"
ffmpeg -y -loglevel error -f lavfi -i "color=c=black:s=320x240:r=15:d=3" \
  -vf "format=rgb24,geq=r='if($eye,30,if($mouth,160,if($face,232,if($guide,230,30+Y/10))))':g='if($eye,30,if($mouth,60,if($face,196,if($guide,230,42+Y/10))))':b='if($eye,30,if($mouth,60,if($face,160,if($guide,230,60+Y/8))))'" \
  -c:v libx264 -profile:v baseline -pix_fmt yuv420p -crf 30 -movflags +faststart \
  -metadata title="biometric-kz-mock liveness test pattern" fixtures/video/liveness.mp4
ls -l fixtures/video/liveness.mp4
