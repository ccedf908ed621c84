// @peculiar/x509 needs the reflect-metadata polyfill loaded before it: every module imports the
// library through this file so that the order can never be wrong.
import 'reflect-metadata';

export * from '@peculiar/x509';
