#!/bin/sh
echo collector
