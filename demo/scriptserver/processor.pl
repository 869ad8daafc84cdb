#!/usr/bin/perl
# The seed's other role: the same image, told to become a processor.
use strict;
use warnings;
print "I am a processor now (instance $ENV{WHATAMI_INSTANCE_ID}, args: @ARGV).\n";
